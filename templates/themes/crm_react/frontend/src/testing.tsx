// Test helpers: the API mocked at the fetch layer, and rendering with the app's context.
import { render } from '@testing-library/react'
import type { ReactElement } from 'react'
import { vi } from 'vitest'
import { Api } from './api'
import type { AppConfig } from './config'
import { AppContext } from './context'

export const config: AppConfig = {
  project: 'demo',
  user: { username: 'alice', name: 'Alice Lane' },
  api: '/crm/api/',
  crmDashboard: '/crm/',
  login: '/accounts/login/',
  logout: '/accounts/logout/',
  admin: '/admin/',
  csrfToken: 'page-token',
  csrfHeader: 'X-CSRFTOKEN',
  csrfCookie: 'csrftoken',
  contactsPerPage: 2,
}

export type Call = {
  method: string
  path: string
  query: URLSearchParams
  body: unknown
  headers: Record<string, string>
}
type Reply = Response | Promise<Response>
type Handler = (call: Call) => Reply

export function json(data: unknown, status = 200): Response {
  return new Response(JSON.stringify(data), { status, headers: { 'Content-Type': 'application/json' } })
}

export function page<T>(results: T[], next: string | null = null, count = results.length) {
  return { count, next, previous: null, results }
}

/** A promise to resolve by hand: a request that is still under way. */
export function deferred<T>() {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => (resolve = r))
  return { promise, resolve }
}

/**
 * Replaces fetch with a router over "METHOD /path/" keys (the query string is
 * not part of the key; handlers see it). Unknown requests fail the test.
 * Returns the calls made, for assertions.
 */
export function mockApi(routes: Record<string, Handler | unknown>): Call[] {
  const calls: Call[] = []
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const url = new URL(String(input), 'http://testserver')
    const method = (init.method ?? 'GET').toUpperCase()
    const call: Call = {
      method,
      path: url.pathname,
      query: url.searchParams,
      body: typeof init.body === 'string' ? JSON.parse(init.body) : undefined,
      headers: { ...(init.headers as Record<string, string>) },
    }
    calls.push(call)
    const key = `${method} ${url.pathname}`
    if (!(key in routes)) throw new Error(`unexpected request ${key}${url.search}`)
    const route = routes[key]
    if (typeof route === 'function') return (route as Handler)(call)
    return route instanceof Response ? route.clone() : json(route)
  })
  vi.stubGlobal('fetch', fetchMock)
  return calls
}

export function renderWithApp(ui: ReactElement, overrides: Partial<AppConfig> = {}) {
  const value = { ...config, ...overrides }
  const api = new Api(value.api ?? '/', () => value.csrfToken, value.csrfHeader)
  return render(<AppContext.Provider value={{ config: value, api }}>{ui}</AppContext.Provider>)
}

// --- Data as the crm module's serializers return it ---------------------------------

export const stages = [
  { id: 1, name: 'Prospecting', order: 1 },
  { id: 2, name: 'Negotiation', order: 2 },
  { id: 3, name: 'Closed-Won', order: 3 },
  { id: 4, name: 'Closed-Lost', order: 4 },
]

export function dealSummary(id: number, title: string, stage: number, amount: string | null) {
  const stageName = stages.find((s) => s.id === stage)?.name ?? ''
  return {
    id,
    title,
    contact: 7,
    contact_name: 'Ada Byron',
    company_name: 'Acme',
    amount,
    stage,
    stage_name: stageName,
    expected_close_date: '2026-03-01',
    probability: 50,
    owner_name: '',
    tag_names: [],
  }
}

export function dealDetail(id: number, title: string, stage: number, amount: string | null) {
  return {
    id,
    title,
    contact: {
      id: 7,
      first_name: 'Ada',
      last_name: 'Byron',
      full_name: 'Ada Byron',
      email: 'ada@example.com',
      phone: '',
      title: 'CTO',
      status: 'new',
      company: 3,
      company_name: 'Acme',
      tag_names: [],
    },
    amount,
    stage: stages.find((s) => s.id === stage),
    expected_close_date: '2026-03-01',
    probability: 60,
    tags: [{ id: 1, name: 'vip' }],
    notes: [
      { id: 11, text: 'First call went well.', created_by_name: 'Alice Lane', created_at: '2026-01-05T10:00:00Z' },
    ],
    created_at: '2026-01-02T09:00:00Z',
    updated_at: '2026-01-05T10:00:00Z',
  }
}

export function contactSummary(id: number, first: string, last: string, company: string, tags: string[] = []) {
  return {
    id,
    first_name: first,
    last_name: last,
    full_name: `${first} ${last}`,
    email: `${first.toLowerCase()}@example.com`,
    phone: '',
    title: '',
    status: 'new',
    company: 3,
    company_name: company,
    tag_names: tags,
  }
}
