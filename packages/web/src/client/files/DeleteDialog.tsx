// Confirmation before a delete: a modal <dialog> (focus kept inside, Esc cancels) that deletes
// from every node unless the box is unticked.

import { useEffect, useRef, useState } from 'preact/hooks';

export interface DeleteDialogProps {
  name: string;
  onConfirm(everywhere: boolean): void;
  onClose(): void;
}

export function DeleteDialog({ name, onConfirm, onClose }: DeleteDialogProps) {
  const ref = useRef<HTMLDialogElement>(null);
  const [everywhere, setEverywhere] = useState(true);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      aria-labelledby="delete-title"
      aria-describedby="delete-what"
      onClose={onClose}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          ref.current?.close();
          onConfirm(everywhere);
        }}
      >
        <h2 id="delete-title">Delete this file?</h2>
        <p id="delete-what" class="name-cell">
          {name}
        </p>
        <label class="check">
          <input
            type="checkbox"
            checked={everywhere}
            onChange={(e) => setEverywhere((e.target as HTMLInputElement).checked)}
          />
          Delete it from every node (otherwise only this node’s copy goes, and repair may bring it
          back)
        </label>
        <div class="actions">
          <button type="button" onClick={() => ref.current?.close()}>
            Cancel
          </button>
          <button type="submit" class="danger">
            Delete
          </button>
        </div>
      </form>
    </dialog>
  );
}
