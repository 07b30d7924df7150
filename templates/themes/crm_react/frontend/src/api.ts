// A small client for the crm module's REST API (quickscale_modules_crm: its
// serializers.py and views.py). Session authentication: the browser sends the
// session cookie; changes also send the CSRF token, as Django requires.

export type Page<T> = { count: number; next: string | null; previous: string | null; results: T[] }

export type Stage = { id: number; name: string; order: number; deal_count?: number }

export type Tag = { id: number; name: string }

export type Company = { id: number; name: string; industry: string; website: string; contact_count?: number }

export type Note = { id: number; text: string; created_by_name: string; created_at: string }

/** DealListSerializer */
export type DealSummary = {
  id: number
  title: string
  contact: number
  contact_name: string
  company_name: string
  amount: string | null
  stage: number
  stage_name: string
  expected_close_date: string | null
  probability: number
  owner_name: string
  tag_names: string[]
}

/** ContactListSerializer */
export type ContactSummary = {
  id: number
  first_name: string
  last_name: string
  full_name: string
  email: string
  phone: string
  title: string
  status: string
  company: number
  company_name: string
  tag_names: string[]
}

/** ContactDetailSerializer */
export type Contact = Omit<ContactSummary, 'company' | 'company_name' | 'tag_names'> & {
  company: Company
  tags: Tag[]
  notes: Note[]
  deal_count: number
}

/** DealDetailSerializer */
export type Deal = {
  id: number
  title: string
  contact: ContactSummary
  amount: string | null
  stage: Stage
  expected_close_date: string | null
  probability: number
  tags: Tag[]
  notes: Note[]
  created_at: string
  updated_at: string
}

export type ContactInput = {
  first_name: string
  last_name: string
  email: string
  phone: string
  title: string
  status: string
  company_id: number
  tag_ids: number[]
}

export type DealInput = {
  title: string
  contact_id: number
  stage_id: number
  amount: string | null
  expected_close_date: string | null
  probability: number
}

/** The contact statuses of the crm module's Contact model. */
export const CONTACT_STATUSES: [string, string][] = [
  ['new', 'New'],
  ['contacted', 'Contacted'],
  ['in_discussion', 'In discussion'],
  ['pending_response', 'Pending response'],
  ['inactive', 'Inactive'],
]

/** A failed request, with a message for people and DRF's errors per field. */
export class ApiError extends Error {
  readonly status: number
  readonly fields: Record<string, string[]>
  /** The session ended: sign in again. */
  readonly signedOut: boolean

  constructor(message: string, status: number, fields: Record<string, string[]> = {}, signedOut = false) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.fields = fields
    this.signedOut = signedOut
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

type Body = Record<string, unknown>

/** Turns DRF's error body into a sentence: `{"detail": "…"}` or `{"field": ["…"]}`. */
async function failure(response: Response, method: string): Promise<ApiError> {
  let data: unknown = null
  try {
    data = await response.json()
  } catch {
    // Not JSON (a proxy's or Django's HTML error page).
  }
  const detail =
    data && typeof data === 'object' && 'detail' in data && typeof data.detail === 'string' ? data.detail : ''
  const status = response.status
  if (status === 401 || (status === 403 && /credentials|authenticat/i.test(detail))) {
    return new ApiError('You are signed out. Sign in again to continue.', status, {}, true)
  }
  if (status === 403 && /csrf/i.test(detail)) {
    return new ApiError(`The request was refused (${detail}). Reload the page and try again.`, status)
  }
  if (status === 403) {
    return new ApiError(`You are not allowed to do that${detail ? `: ${detail}` : '.'}`, status)
  }
  if (status === 404) {
    // Django's own text ("No Deal matches the given query.") names a model, not what happened;
    // any other reason (DRF's "Invalid page.") is kept.
    if (!detail || detail === 'Not found.' || /^No \w+ matches the given query\.$/.test(detail)) {
      return new ApiError('Not found: it may have been deleted.', status)
    }
    return new ApiError(`Not found: ${detail}`, status)
  }
  if (status === 400 && data && typeof data === 'object' && !detail) {
    const fields: Record<string, string[]> = {}
    for (const [field, value] of Object.entries(data as Record<string, unknown>)) {
      fields[field] = (Array.isArray(value) ? value : [value]).map(String)
    }
    const text = Object.entries(fields)
      .map(([field, messages]) => (field === 'non_field_errors' ? '' : `${field}: `) + messages.join(' '))
      .join(' ')
    return new ApiError(`Please correct the form. ${text}`, status, fields)
  }
  if (status >= 500) {
    return new ApiError(`The server failed (HTTP ${status}). Try again in a moment.`, status)
  }
  return new ApiError(detail || `${method} failed with HTTP ${status}.`, status)
}

export class Api {
  private readonly base: string
  private readonly csrf: () => string
  private readonly csrfHeader: string

  /** `base`: the API root, e.g. "/crm/api/"; `csrf` returns the current CSRF token. */
  constructor(base: string, csrf: () => string, csrfHeader = 'X-CSRFToken') {
    this.base = base.endsWith('/') ? base : `${base}/`
    this.csrf = csrf
    this.csrfHeader = csrfHeader
  }

  /** `path` is relative to the API root; absolute URLs (DRF's `next` links) are used as they are. */
  async request<T>(method: string, path: string, body?: Body): Promise<T> {
    const url = /^https?:\/\//.test(path) ? path : this.base + path
    const headers: Record<string, string> = { Accept: 'application/json' }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (!['GET', 'HEAD', 'OPTIONS'].includes(method)) headers[this.csrfHeader] = this.csrf()
    let response: Response
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
      })
    } catch {
      throw new ApiError('The server cannot be reached. Check the connection and try again.', 0)
    }
    if (!response.ok) throw await failure(response, method)
    if (response.status === 204) return undefined as T
    return (await response.json()) as T
  }

  /** Every item of a list, following DRF's `next` links (plain lists work too). */
  async all<T>(path: string): Promise<T[]> {
    const items: T[] = []
    let next: string | null = path
    while (next) {
      const data: Page<T> | T[] = await this.request<Page<T> | T[]>('GET', next)
      if (Array.isArray(data)) return data
      items.push(...data.results)
      next = data.next
    }
    return items
  }

  stages(): Promise<Stage[]> {
    return this.all<Stage>('stages/?page_size=200')
  }

  deals(): Promise<DealSummary[]> {
    return this.all<DealSummary>('deals/?page_size=200')
  }

  deal(id: number): Promise<Deal> {
    return this.request<Deal>('GET', `deals/${id}/`)
  }

  createDeal(input: DealInput): Promise<Deal> {
    return this.request<Deal>('POST', 'deals/', input)
  }

  moveDeal(id: number, stageId: number): Promise<Deal> {
    return this.request<Deal>('PATCH', `deals/${id}/`, { stage_id: stageId })
  }

  addDealNote(id: number, text: string): Promise<Note> {
    return this.request<Note>('POST', `deals/${id}/notes/`, { text })
  }

  async contacts(query: { search?: string; page?: number; pageSize: number }): Promise<Page<ContactSummary>> {
    const params = new URLSearchParams({ page: String(query.page ?? 1), page_size: String(query.pageSize) })
    if (query.search) params.set('search', query.search)
    const data = await this.request<Page<ContactSummary> | ContactSummary[]>('GET', `contacts/?${params}`)
    // Without pagination (REST_FRAMEWORK settings changed) the API returns a plain list.
    return Array.isArray(data) ? { count: data.length, next: null, previous: null, results: data } : data
  }

  allContacts(): Promise<ContactSummary[]> {
    return this.all<ContactSummary>('contacts/?page_size=200')
  }

  contact(id: number): Promise<Contact> {
    return this.request<Contact>('GET', `contacts/${id}/`)
  }

  createContact(input: ContactInput): Promise<Contact> {
    return this.request<Contact>('POST', 'contacts/', input)
  }

  updateContact(id: number, input: Partial<ContactInput>): Promise<Contact> {
    return this.request<Contact>('PATCH', `contacts/${id}/`, input)
  }

  companies(): Promise<Company[]> {
    return this.all<Company>('companies/?page_size=200')
  }

  createCompany(name: string): Promise<Company> {
    return this.request<Company>('POST', 'companies/', { name })
  }

  tags(): Promise<Tag[]> {
    return this.all<Tag>('tags/?page_size=200')
  }

  createTag(name: string): Promise<Tag> {
    return this.request<Tag>('POST', 'tags/', { name })
  }
}
