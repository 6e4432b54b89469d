// Public surface of `@peerstash/cas-store/blockstore`: the js-stores Blockstore adapter.
// Kept apart from the main entry so the core never loads multiformats or interface-store.

export { NotFoundError } from 'interface-store';
export type { CasBlockstoreOptions } from './cas-blockstore.js';
export { CasBlockstore, DEFAULT_BLOCKSTORE_NAMESPACE } from './cas-blockstore.js';
