#!/usr/bin/env node
// The `seal` command: runs the TypeScript sources directly (through tsx), so a clone works after `npm install`.
import { register } from 'tsx/esm/api';

process.env.XDG_RUNTIME_DIR ??= '/tmp';
register();
await import('../src/cli/seal.ts');
