import { ApiError, errorMessage } from './api'
import { useApp } from './context'

export function Loading({ label }: { label: string }) {
  return (
    <p role="status" className="loading">
      {label}
    </p>
  )
}

/** An error that says what happened and, when the session ended, how to sign in again. */
export function ErrorNotice({ error, onDismiss }: { error: unknown; onDismiss?: () => void }) {
  const { config } = useApp()
  const signedOut = error instanceof ApiError && error.signedOut
  const next = encodeURIComponent(window.location.pathname + window.location.search)
  return (
    <div role="alert" className="message error notice">
      <p>{errorMessage(error)}</p>
      {signedOut && (
        <p>
          <a className="button" href={`${config.login}?next=${next}`}>
            Sign in
          </a>
        </p>
      )}
      {onDismiss && (
        <button type="button" className="link-button" onClick={onDismiss}>
          Dismiss
        </button>
      )}
    </div>
  )
}
