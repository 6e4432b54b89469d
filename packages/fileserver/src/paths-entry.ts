// `@peerstash/fileserver/paths`: the catalog's key and folder helpers alone, for programs (the
// CLI's client commands) that map local paths onto keys and must not load a whole node to do it.

export { InvalidPathError } from './catalog/errors.js';
export {
  folderPrefix,
  keyForPath,
  pathSegments,
  pathUnder,
  SEPARATOR,
} from './catalog/paths.js';
