// Running tests once per kernel variant of a family (src/tensor/ops/variants.ts), with the variant forced:
// the production choice differs per adapter, so every variant is checked on whichever adapter runs the tests.
import { afterEach, beforeEach, describe, it } from 'vitest';
import { forceKernels, kernelFamilies } from '../../src/tensor/index.ts';

/** Declares `body`'s tests (about `what`) once per variant of `family`; a variant this adapter cannot run is skipped. */
export function forEachVariant(what: string, family: string, body: (variant: string) => void): void {
  const f = kernelFamilies().get(family);
  if (!f) throw new Error(`no kernel family "${family}"`);
  for (const variant of f.variants) {
    describe(`${what} (${family} kernels: ${variant})`, () => {
      beforeEach((ctx) => {
        if (!f.available(variant)) ctx.skip();
        forceKernels({ [family]: variant });
      });
      afterEach(() => forceKernels({ [family]: null }));
      body(variant);
    });
  }
}

/**
 * Declares `body`'s tests for every form of a row kernel (launch.ts, rowKernel): the workgroup form under
 * each reduction form (family `reduce`), and the row form (an invocation per row).
 */
export function forEachRowForm(what: string, family: string, body: () => void): void {
  forEachVariant(`${what} (a workgroup per row)`, 'reduce', () => {
    beforeEach(() => forceKernels({ [family]: 'workgroup' }));
    afterEach(() => forceKernels({ [family]: null }));
    body();
  });
  describe(`${what} (an invocation per row)`, () => {
    beforeEach(() => forceKernels({ [family]: 'row' }));
    afterEach(() => forceKernels({ [family]: null }));
    body();
  });
}

/**
 * `it` for tests of how work is split over bindings and dispatch grids (host-side logic that is the same at
 * every subgroup size): they run in the default project only, not again in the lavapipe-subgroup-N ones,
 * whose job is the kernels' lane counts (these tests take most of a project's time there).
 */
export const itOnceOnly = process.env.SEAL_TEST_SUBGROUP_SIZE ? it.skip : it;
