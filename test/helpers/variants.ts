// Running tests once per kernel variant of a family (src/tensor/ops/variants.ts), with the variant forced:
// the production choice differs per adapter, so every variant is checked on whichever adapter runs the tests.
import { afterEach, beforeEach, describe } from 'vitest';
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
