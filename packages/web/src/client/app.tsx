// The app shell: the session check, the header with its pages, the live region that announces
// what happened, and the upload list that carries on across pages.

import { useEffect, useRef, useState } from 'preact/hooks';
import { loadSession, onSignedOut, signOut } from './api';
import { ClusterPage } from './cluster/ClusterPage';
import { FilesPage } from './files/FilesPage';
import { UploadPanel } from './files/UploadPanel';
import { Uploader } from './files/uploads';
import { useFrameUpdate } from './hooks';
import { parseRoute, type Route, routeHash } from './route';

type State = 'loading' | 'signed-out' | 'ready' | 'failed';

function SignedOut() {
  return (
    <main id="main" class="signed-out">
      <h1>Signed out</h1>
      <p>
        To open the console, run <code>peerstash ui</code> on the node’s machine (add{' '}
        <code>--open</code> to open it in a browser there) and follow the one-time link it prints.
      </p>
      <p>Sessions end after an hour unused, after twelve hours, and when the node restarts.</p>
    </main>
  );
}

export function App() {
  const [state, setState] = useState<State>('loading');
  const [route, setRoute] = useState<Route>(parseRoute(location.hash));
  const [message, setMessage] = useState('');
  const [generation, setGeneration] = useState(0);
  const update = useFrameUpdate();
  const stored = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const uploader = useRef<Uploader | undefined>(undefined);
  uploader.current ??= new Uploader(update, () => {
    // one listing read for a burst of finished uploads
    clearTimeout(stored.current);
    stored.current = setTimeout(() => setGeneration((g) => g + 1), 300);
  });

  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    const off = onSignedOut(() => setState('signed-out'));
    loadSession().then(
      (s) => setState(s ? 'ready' : 'signed-out'),
      () => setState('failed'),
    );
    return () => {
      removeEventListener('hashchange', onHash);
      off();
    };
  }, []);

  if (state === 'loading') return <p class="loading">Loading…</p>;
  if (state === 'signed-out') return <SignedOut />;
  if (state === 'failed') {
    return (
      <main id="main">
        <h1>The node did not answer</h1>
        <p>Check that it is running, then reload this page.</p>
      </main>
    );
  }
  const nav = (page: Route['page'], label: string) => (
    <a
      href={page === 'files' ? routeHash({ page, prefix: '' }) : routeHash({ page })}
      aria-current={route.page === page ? 'page' : undefined}
    >
      {label}
    </a>
  );
  return (
    <>
      {/* a button, not #main: the address's fragment is the app's route */}
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <header class="top">
        <span class="brand">peerstash</span>
        <nav aria-label="Pages">
          {nav('files', 'Files')}
          {nav('cluster', 'Cluster')}
        </nav>
        <button type="button" class="small" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {route.page === 'files' ? (
          <FilesPage
            prefix={route.prefix}
            uploader={uploader.current}
            generation={generation}
            announce={setMessage}
          />
        ) : (
          <ClusterPage announce={setMessage} />
        )}
        {route.page === 'files' && <UploadPanel uploader={uploader.current} />}
      </main>
      <p class="sr-only" role="status" aria-live="polite" data-testid="announce">
        {message}
      </p>
    </>
  );
}
