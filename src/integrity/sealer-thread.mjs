// The sealer's thread starts here. A worker thread does not inherit the TypeScript loader that
// `node --import tsx` gave the main thread (Node 20), so it registers the loader itself.
import { register } from 'tsx/esm/api';

register();
await import('./sealer-thread.ts');
