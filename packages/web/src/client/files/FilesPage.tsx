// The files page: one folder at a time with breadcrumbs, a name filter and pages of rows; download
// links, delete with confirmation, and uploads by picker or by dropping files and folders.

import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, call, fileUrl, getJson, listUrl } from '../api';
import { formatBytes, formatDate } from '../format';
import { routeHash } from '../route';
import { DeleteDialog } from './DeleteDialog';
import { type FileRow, filterRows, type Listing, modifiedAt, readListing } from './listing';
import { baseName, breadcrumbs } from './paths';
import { fromDrop, fromInput, type Uploader } from './uploads';

export const PAGE_SIZE = 100;

export interface FilesPageProps {
  prefix: string;
  uploader: Uploader;
  /** Bumped by the app when an upload stored a file: the listing is read again. */
  generation: number;
  announce(message: string): void;
}

const folderHash = (prefix: string) => routeHash({ page: 'files', prefix });

export function FilesPage({ prefix, uploader, generation, announce }: FilesPageProps) {
  const [listing, setListing] = useState<Listing | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filter, setFilter] = useState('');
  const [page, setPage] = useState(0);
  // server paging: the cursors that opened each page so far (null: the first)
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const [reload, setReload] = useState(0);
  // each Delete press opens a fresh dialog: a closing one's late `close` event (Esc queues it as a
  // task) must not take away a dialog opened again in the meantime
  const [toDelete, setToDelete] = useState<{ row: FileRow; n: number } | null>(null);
  const opened = useRef(0);
  const [dragging, setDragging] = useState(false);
  const filesInput = useRef<HTMLInputElement>(null);
  const folderInput = useRef<HTMLInputElement>(null);
  const cursor = cursors[cursors.length - 1] ?? null;

  useEffect(() => {
    setPage(0);
    setCursors([null]);
    setFilter('');
  }, [prefix]);

  useEffect(() => {
    // coming back to the tab shows what others changed meanwhile
    const onVisible = () => {
      if (document.visibilityState === 'visible') setReload((n) => n + 1);
    };
    document.addEventListener('visibilitychange', onVisible);
    return () => document.removeEventListener('visibilitychange', onVisible);
  }, []);

  useEffect(() => {
    // a folder pick needs this non-standard property, which has no attribute in the JSX types
    if (folderInput.current) folderInput.current.webkitdirectory = true;
  }, []);

  useEffect(() => {
    let live = true;
    getJson<unknown>(listUrl(prefix, cursor, PAGE_SIZE))
      .then((body) => {
        if (!live) return;
        setListing(readListing(body, prefix));
        setError(null);
      })
      .catch((err: unknown) => {
        if (live) setError(err instanceof Error ? err.message : String(err));
      });
    return () => {
      live = false;
    };
  }, [prefix, cursor, reload, generation]);

  const all = listing ? filterRows(listing.rows, filter) : [];
  const serverPaged = listing?.serverFolders === true;
  const pages = serverPaged ? 1 : Math.max(1, Math.ceil(all.length / PAGE_SIZE));
  const at = Math.min(page, pages - 1);
  const rows = serverPaged ? all : all.slice(at * PAGE_SIZE, (at + 1) * PAGE_SIZE);
  const crumbs = breadcrumbs(prefix);
  const hasPrev = serverPaged ? cursors.length > 1 : at > 0;
  const hasNext = serverPaged ? listing?.next != null : at < pages - 1;

  const remove = async (row: FileRow, everywhere: boolean) => {
    try {
      await call(fileUrl(row.key, { everywhere }), { method: 'DELETE' });
      announce(`Deleted ${row.name}${everywhere ? ' from every node' : ' from this node'}`);
    } catch (err) {
      announce(`Could not delete ${row.name}: ${err instanceof ApiError ? err.message : err}`);
    }
    setReload((n) => n + 1);
  };

  const onDrop = async (e: DragEvent) => {
    e.preventDefault();
    setDragging(false);
    if (!e.dataTransfer) return;
    const picked = await fromDrop(e.dataTransfer, prefix);
    if (picked.length) {
      uploader.add(picked);
      announce(`Uploading ${picked.length} file${picked.length === 1 ? '' : 's'}`);
    }
  };

  const onPick = (input: HTMLInputElement | null) => {
    if (!input?.files?.length) return;
    const picked = fromInput(input.files, prefix);
    uploader.add(picked);
    announce(`Uploading ${picked.length} file${picked.length === 1 ? '' : 's'}`);
    input.value = '';
  };

  return (
    <section
      class={`files${dragging ? ' dragging' : ''}`}
      aria-labelledby="files-title"
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={(e) => {
        if (e.currentTarget === e.target) setDragging(false);
      }}
      onDrop={onDrop}
    >
      <h1 id="files-title" class="sr-only">
        Files
      </h1>
      <nav aria-label="Folder path" class="crumbs">
        <ol>
          {crumbs.map((c, i) => (
            <li key={c.prefix}>
              {i === crumbs.length - 1 ? (
                <span aria-current="page">{c.label}</span>
              ) : (
                <a href={folderHash(c.prefix)}>{c.label}</a>
              )}
            </li>
          ))}
        </ol>
      </nav>
      <div class="toolbar">
        <label class="filter">
          <span>Filter by name</span>
          <input
            type="search"
            value={filter}
            onInput={(e) => {
              setFilter((e.target as HTMLInputElement).value);
              setPage(0);
            }}
          />
        </label>
        <div class="actions">
          <button type="button" onClick={() => setReload((n) => n + 1)}>
            Refresh
          </button>
          <button type="button" onClick={() => filesInput.current?.click()}>
            Upload files
          </button>
          <button type="button" onClick={() => folderInput.current?.click()}>
            Upload a folder
          </button>
        </div>
        <input
          ref={filesInput}
          type="file"
          multiple
          hidden
          aria-label="Files to upload"
          data-testid="pick-files"
          onChange={(e) => onPick(e.target as HTMLInputElement)}
        />
        <input
          ref={folderInput}
          type="file"
          hidden
          aria-label="Folder to upload"
          data-testid="pick-folder"
          onChange={(e) => onPick(e.target as HTMLInputElement)}
        />
      </div>
      <p class="hint">Or drop files and folders anywhere on this page.</p>
      {serverPaged && filter.trim() !== '' && (hasPrev || hasNext) && (
        <p class="hint" data-testid="filter-page">
          The filter looks at this page of the folder; the others are a page away.
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          Could not list this folder: {error}
        </p>
      )}
      {listing && (
        <table class="listing">
          <caption class="sr-only">Contents of {crumbs[crumbs.length - 1]?.label}</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col" class="num">
                Size
              </th>
              <th scope="col" class="c-date">
                Modified
              </th>
              <th scope="col" class="num c-copies">
                Copies
              </th>
              <th scope="col">
                <span class="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {rows.length === 0 && (
              <tr>
                <td colSpan={5} class="empty">
                  {filter ? 'Nothing here matches the filter.' : 'This folder is empty.'}
                </td>
              </tr>
            )}
            {rows.map((r) =>
              r.kind === 'folder' ? (
                <tr key={`d:${r.prefix}`} class="folder-row">
                  <td class="name-cell">
                    <a href={folderHash(r.prefix)} class="folder" aria-label={`Folder ${r.name}`}>
                      {r.name}/
                    </a>
                  </td>
                  <td class="num">—</td>
                  <td class="c-date">—</td>
                  <td class="num c-copies">—</td>
                  <td />
                </tr>
              ) : (
                <tr key={`f:${r.key}`} class="file-row" data-key={r.key}>
                  <td class="name-cell">{r.name}</td>
                  <td class="num">{formatBytes(r.size)}</td>
                  <td class="c-date">{formatDate(modifiedAt(r))}</td>
                  <td class="num c-copies">{r.copies ?? '—'}</td>
                  <td class="row-actions">
                    <a
                      class="button small"
                      href={fileUrl(r.key, { download: true })}
                      download={baseName(r.key)}
                      aria-label={`Download ${r.name}`}
                    >
                      Download
                    </a>
                    <button
                      type="button"
                      class="small danger"
                      aria-label={`Delete ${r.name}`}
                      onClick={() => setToDelete({ row: r, n: ++opened.current })}
                    >
                      Delete
                    </button>
                  </td>
                </tr>
              ),
            )}
          </tbody>
        </table>
      )}
      {listing && (hasPrev || hasNext) && (
        <nav class="pager" aria-label="Pages">
          <button
            type="button"
            disabled={!hasPrev}
            onClick={() => (serverPaged ? setCursors((c) => c.slice(0, -1)) : setPage(at - 1))}
          >
            Previous page
          </button>
          <span>
            {serverPaged
              ? `Page ${cursors.length}`
              : `${at * PAGE_SIZE + 1}–${Math.min(all.length, (at + 1) * PAGE_SIZE)} of ${all.length}`}
          </span>
          <button
            type="button"
            disabled={!hasNext}
            onClick={() =>
              serverPaged && listing.next
                ? setCursors((c) => [...c, listing.next])
                : setPage(at + 1)
            }
          >
            Next page
          </button>
        </nav>
      )}
      {toDelete && (
        <DeleteDialog
          key={toDelete.n}
          name={toDelete.row.key}
          onClose={() => setToDelete((cur) => (cur?.n === toDelete.n ? null : cur))}
          onConfirm={(everywhere) => void remove(toDelete.row, everywhere)}
        />
      )}
    </section>
  );
}
