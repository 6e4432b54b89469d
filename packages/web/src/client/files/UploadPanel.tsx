// The upload list: every file with its own progress, state, error and cancel button, and a total.

import { formatBytes } from '../format';
import type { Uploader, UploadItem } from './uploads';

const STATE_TEXT: Record<UploadItem['state'], string> = {
  queued: 'Waiting',
  uploading: 'Uploading',
  done: 'Stored',
  error: 'Failed',
  cancelled: 'Cancelled',
};

/** Long keys (a folder tree's deep paths) shortened in the middle so each row stays a row. */
export function shortKey(key: string, max = 120): string {
  if (key.length <= max) return key;
  const half = Math.floor((max - 1) / 2);
  return `${key.slice(0, half)}…${key.slice(-half)}`;
}

export function UploadPanel({ uploader }: { uploader: Uploader }) {
  const items = uploader.items;
  if (items.length === 0) return null;
  const t = uploader.totals();
  return (
    <section class="uploads" aria-labelledby="uploads-title">
      <div class="uploads-head">
        <h2 id="uploads-title">Uploads</h2>
        <p class="total" aria-live="polite">
          {t.done} stored{t.failed ? `, ${t.failed} failed` : ''}
          {t.active ? `, ${t.active} to go` : ''} · {formatBytes(t.loaded)} of {formatBytes(t.size)}
        </p>
        <progress aria-label="Total upload progress" max={Math.max(1, t.size)} value={t.loaded} />
        <div class="actions">
          {t.active > 0 && (
            <button type="button" onClick={() => uploader.cancelAll()}>
              Cancel all
            </button>
          )}
          <button type="button" onClick={() => uploader.clearFinished()}>
            Clear finished
          </button>
        </div>
      </div>
      <ul class="upload-list">
        {items.map((i) => (
          <li key={i.id} class={`upload state-${i.state}`} data-key={i.key}>
            <span class="name-cell" title={i.key}>
              {shortKey(i.key)}
            </span>
            <progress
              aria-label={`Progress of ${shortKey(i.key)}`}
              max={Math.max(1, i.size)}
              value={i.state === 'done' ? i.size : i.loaded}
            />
            <span class="upload-state">
              {STATE_TEXT[i.state]}
              {i.state === 'uploading' ? ` ${formatBytes(i.loaded)} of ${formatBytes(i.size)}` : ''}
              {i.state === 'done' ? ` ${formatBytes(i.size)}` : ''}
            </span>
            {i.error && (
              <span class="upload-error" role="alert">
                {i.error}
              </span>
            )}
            {(i.state === 'queued' || i.state === 'uploading') && (
              <button
                type="button"
                class="small"
                aria-label={`Cancel upload of ${shortKey(i.key)}`}
                onClick={() => uploader.cancel(i.id)}
              >
                Cancel
              </button>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
