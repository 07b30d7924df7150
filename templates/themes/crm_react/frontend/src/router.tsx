// Client-side routes. Django serves the app page for each of them (the
// project's urls.py); keep the two lists in step.
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent } from 'react'

export type Route =
  | { name: 'board' }
  | { name: 'contacts'; search: string; page: number }
  | { name: 'contact-new' }
  | { name: 'contact'; id: number }
  | { name: 'deal-new'; stage: number | null }
  | { name: 'deal'; id: number }
  | { name: 'not-found' }

export function parseRoute(pathname: string, search: string): Route {
  const query = new URLSearchParams(search)
  const id = (text: string) => Number.parseInt(text, 10)
  let m: RegExpMatchArray | null
  if (pathname === '/' || pathname === '/deals/') return { name: 'board' }
  if (pathname === '/contacts/') {
    const page = id(query.get('page') ?? '1')
    return { name: 'contacts', search: query.get('q') ?? '', page: page > 0 ? page : 1 }
  }
  if (pathname === '/contacts/new/') return { name: 'contact-new' }
  if ((m = pathname.match(/^\/contacts\/(\d+)\/$/))) return { name: 'contact', id: id(m[1]) }
  if (pathname === '/deals/new/') {
    const stage = query.get('stage')
    return { name: 'deal-new', stage: stage ? id(stage) : null }
  }
  if ((m = pathname.match(/^\/deals\/(\d+)\/$/))) return { name: 'deal', id: id(m[1]) }
  return { name: 'not-found' }
}

const NAVIGATE = 'crm:navigate'

function subscribe(onChange: () => void): () => void {
  window.addEventListener('popstate', onChange)
  window.addEventListener(NAVIGATE, onChange)
  return () => {
    window.removeEventListener('popstate', onChange)
    window.removeEventListener(NAVIGATE, onChange)
  }
}

const current = () => window.location.pathname + window.location.search

/** The current path and query string; re-renders on navigation. */
export function useLocation(): { pathname: string; search: string } {
  const href = useSyncExternalStore(subscribe, current)
  const url = new URL(href, 'http://app.invalid')
  return { pathname: url.pathname, search: url.search }
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', to)
  else window.history.pushState(null, '', to)
  window.dispatchEvent(new Event(NAVIGATE))
}

/** A link that navigates without reloading the page (new tabs and windows work as usual). */
export function Link({ to, onClick, ...props }: AnchorHTMLAttributes<HTMLAnchorElement> & { to: string }) {
  const handle = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event)
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    ) {
      return
    }
    event.preventDefault()
    navigate(to)
  }
  return <a href={to} onClick={handle} {...props} />
}
