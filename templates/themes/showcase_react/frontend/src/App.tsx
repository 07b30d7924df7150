import { useEffect, useState } from 'react'

export type Hello = {
  message: string
  project: string
}

type State = { status: 'loading' } | { status: 'ready'; hello: Hello } | { status: 'error'; error: string }

export default function App() {
  const [state, setState] = useState<State>({ status: 'loading' })
  const [count, setCount] = useState(0)

  useEffect(() => {
    const controller = new AbortController()
    fetch('/api/hello/', { headers: { Accept: 'application/json' }, signal: controller.signal })
      .then((response) => {
        if (!response.ok) throw new Error(`HTTP ${response.status}`)
        return response.json() as Promise<Hello>
      })
      .then((hello) => setState({ status: 'ready', hello }))
      .catch((error: unknown) => {
        if (!controller.signal.aborted) {
          setState({ status: 'error', error: error instanceof Error ? error.message : String(error) })
        }
      })
    return () => controller.abort()
  }, [])

  return (
    <>
      <section className="hero" aria-labelledby="hero-title">
        <p className="eyebrow">It works</p>
        <h1 id="hero-title">Welcome{state.status === 'ready' ? ` to ${state.hello.project}` : ''}</h1>
        <p className="lead">
          A React + TypeScript app built with Vite and served by Django. Edit <code>frontend/src/App.tsx</code> to make
          this page your own.
        </p>
      </section>

      <section aria-labelledby="demo-title">
        <h2 id="demo-title">Try it</h2>
        <div className="grid">
          <div className="card" aria-live="polite">
            <h3>From the Django API</h3>
            {state.status === 'loading' && <p>Loading…</p>}
            {state.status === 'ready' && <p data-testid="api-message">{state.hello.message}</p>}
            {state.status === 'error' && <p role="alert">Could not reach the API ({state.error}).</p>}
            <p>
              <code>GET /api/hello/</code>
            </p>
          </div>
          <div className="card">
            <h3>React state</h3>
            <p>
              Clicked {count} {count === 1 ? 'time' : 'times'}.
            </p>
            <p>
              <button type="button" className="button secondary" onClick={() => setCount((c) => c + 1)}>
                Click me
              </button>
            </p>
          </div>
        </div>
      </section>
    </>
  )
}
