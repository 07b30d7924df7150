import { describe, expect, it } from 'vitest'
import { Api, ApiError } from './api'
import { csrfToken } from './config'
import { config, json, mockApi, page } from './testing'

const api = new Api('/crm/api', () => 'token-1', 'X-CSRFToken')

async function failure(response: Response): Promise<ApiError> {
  mockApi({ 'PATCH /crm/api/deals/1/': response })
  try {
    await api.moveDeal(1, 2)
  } catch (error) {
    return error as ApiError
  }
  throw new Error('the request did not fail')
}

describe('Api', () => {
  it('sends the CSRF token with changes only, and JSON', async () => {
    const calls = mockApi({ 'GET /crm/api/deals/3/': { id: 3 }, 'PATCH /crm/api/deals/3/': { id: 3 } })
    await api.deal(3)
    await api.moveDeal(3, 2)
    expect(calls[0].headers).toEqual({ Accept: 'application/json' })
    expect(calls[1].headers).toEqual({
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'X-CSRFToken': 'token-1',
    })
    expect(calls[1].body).toEqual({ stage_id: 2 })
  })

  it('follows next links, and takes plain lists too', async () => {
    mockApi({
      'GET /crm/api/tags/': ({ query }: { query: URLSearchParams }) =>
        json(query.get('page') ? page([{ id: 2 }]) : page([{ id: 1 }], 'http://testserver/crm/api/tags/?page=2', 2)),
      'GET /crm/api/companies/': [{ id: 5 }],
    })
    expect(await api.tags()).toEqual([{ id: 1 }, { id: 2 }])
    expect(await api.companies()).toEqual([{ id: 5 }])
  })

  it('turns failures into messages that say what happened', async () => {
    expect((await failure(json({ detail: 'Authentication credentials were not provided.' }, 403))).signedOut).toBe(true)
    expect((await failure(json({ detail: 'CSRF Failed: CSRF token missing.' }, 403))).message).toBe(
      'The request was refused (CSRF Failed: CSRF token missing.). Reload the page and try again.',
    )
    expect((await failure(json({ detail: 'Not found.' }, 404))).message).toBe('Not found: it may have been deleted.')
    expect((await failure(json({ detail: 'No Deal matches the given query.' }, 404))).message).toBe(
      'Not found: it may have been deleted.',
    )
    expect((await failure(json({ detail: 'Invalid page.' }, 404))).message).toBe('Not found: Invalid page.')
    const invalid = await failure(json({ stage_id: ['This field is required.'], non_field_errors: ['Nope.'] }, 400))
    expect(invalid.message).toBe('Please correct the form. stage_id: This field is required. Nope.')
    expect(invalid.fields).toEqual({ stage_id: ['This field is required.'], non_field_errors: ['Nope.'] })
    expect((await failure(new Response('<h1>Bad gateway</h1>', { status: 502 }))).message).toBe(
      'The server failed (HTTP 502). Try again in a moment.',
    )
  })

  it('prefers the CSRF cookie to the token in the page', () => {
    expect(csrfToken(config, 'a=1; csrftoken=from-cookie; b=2')).toBe('from-cookie')
    expect(csrfToken(config, 'a=1')).toBe('page-token')
    expect(csrfToken({ ...config, csrfCookie: null }, 'csrftoken=x')).toBe('page-token')
  })
})
