import { cleanup, fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it, vi } from 'vitest'
import Board from './Board'
import { dealDetail, dealSummary, deferred, json, mockApi, page, renderWithApp, stages } from './testing'

const deals = [
  dealSummary(10, 'Big order', 1, '1500.00'),
  dealSummary(11, 'Renewal', 1, '250.50'),
  dealSummary(12, 'Pilot', 2, null),
]

function column(name: string) {
  return screen.getByRole('region', { name })
}

function titlesIn(name: string) {
  return within(column(name))
    .queryAllByRole('link')
    .map((a) => a.textContent)
}

async function board(routes: Record<string, unknown> = {}) {
  const calls = mockApi({
    'GET /crm/api/stages/': page([...stages].reverse()),
    'GET /crm/api/deals/': page(deals),
    ...routes,
  })
  renderWithApp(<Board />)
  await screen.findByRole('heading', { name: 'Pipeline' })
  return calls
}

/** HTML5 drag and drop of a deal card onto a column. */
function drag(title: string, to: string) {
  const card = screen.getByRole('link', { name: title }).closest('li')!
  fireEvent.dragStart(card)
  fireEvent.dragOver(column(to))
  fireEvent.drop(column(to))
  fireEvent.dragEnd(card)
}

describe('Board', () => {
  it('shows the stages from the API in order, their deals and totals', async () => {
    const calls = await board()
    const headings = screen.getAllByRole('heading', { level: 2 }).map((h) => h.textContent)
    expect(headings).toEqual(['Prospecting', 'Negotiation', 'Closed-Won', 'Closed-Lost'])
    expect(titlesIn('Prospecting')).toEqual(['Big order', 'Renewal'])
    expect(titlesIn('Negotiation')).toEqual(['Pilot'])
    expect(within(column('Prospecting')).getByText('2 deals · $1,750.50')).toBeTruthy()
    expect(within(column('Negotiation')).getByText('1 deal · $0.00')).toBeTruthy()
    expect(within(column('Closed-Won')).getByText('No deals')).toBeTruthy()
    expect(screen.getByText('3 deals · $1,750.50')).toBeTruthy()
    expect(screen.getByRole('link', { name: 'Big order' }).getAttribute('href')).toBe('/deals/10/')
    expect(calls.map((c) => `${c.method} ${c.path}?${c.query}`)).toEqual([
      'GET /crm/api/stages/?page_size=200',
      'GET /crm/api/deals/?page_size=200',
    ])
  })

  it('loads every page of deals', async () => {
    let second = false
    mockApi({
      'GET /crm/api/stages/': page(stages),
      'GET /crm/api/deals/': ({ query }: { query: URLSearchParams }) => {
        if (query.get('page') === '2') {
          second = true
          return json(page([deals[2]], null, 3))
        }
        return json(page(deals.slice(0, 2), 'http://testserver/crm/api/deals/?page=2&page_size=200', 3))
      },
    })
    renderWithApp(<Board />)
    expect(await screen.findByRole('link', { name: 'Pilot' })).toBeTruthy()
    expect(second).toBe(true)
  })

  it('moves a deal by drag and drop at once, then saves it', async () => {
    const saved = deferred<Response>()
    const calls = await board({ 'PATCH /crm/api/deals/10/': () => saved.promise })

    drag('Big order', 'Closed-Won')

    // Shown before the API answers, with the totals updated.
    expect(titlesIn('Closed-Won')).toEqual(['Big order'])
    expect(titlesIn('Prospecting')).toEqual(['Renewal'])
    expect(within(column('Closed-Won')).getByText('1 deal · $1,500.00')).toBeTruthy()
    const patch = calls.find((c) => c.method === 'PATCH')!
    expect(patch.body).toEqual({ stage_id: 3 })
    expect(patch.headers['X-CSRFTOKEN']).toBe('page-token')

    saved.resolve(json(dealDetail(10, 'Big order', 3, '1500.00')))
    await waitFor(() => expect(screen.getByText('Big order moved to Closed-Won.')).toBeTruthy())
    expect(titlesIn('Closed-Won')).toEqual(['Big order'])
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('puts the deal back and says why when the API refuses the move', async () => {
    await board({
      'PATCH /crm/api/deals/11/': json({ stage_id: ['Invalid pk "2" - object does not exist.'] }, 400),
    })

    drag('Renewal', 'Negotiation')
    expect(titlesIn('Negotiation')).toEqual(['Renewal', 'Pilot'])

    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toContain('Could not move “Renewal” to Negotiation')
    expect(alert.textContent).toContain('stage_id: Invalid pk "2" - object does not exist.')
    expect(alert.textContent).toContain('It is back in Prospecting.')
    expect(titlesIn('Prospecting')).toEqual(['Big order', 'Renewal'])
    expect(titlesIn('Negotiation')).toEqual(['Pilot'])
    expect(within(column('Prospecting')).getByText('2 deals · $1,750.50')).toBeTruthy()

    fireEvent.click(within(alert).getByRole('button', { name: 'Dismiss' }))
    expect(screen.queryByRole('alert')).toBeNull()
  })

  it('asks to sign in again when the session has ended during a move', async () => {
    await board({
      'PATCH /crm/api/deals/12/': json({ detail: 'Authentication credentials were not provided.' }, 403),
    })
    drag('Pilot', 'Closed-Lost')
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toContain('You are signed out')
    expect(titlesIn('Negotiation')).toEqual(['Pilot'])
  })

  it('moves a deal with the keyboard: pick up, arrows, drop', async () => {
    const calls = await board({ 'PATCH /crm/api/deals/10/': json(dealDetail(10, 'Big order', 3, '1500.00')) })
    const handle = screen.getByRole('button', { name: 'Move Big order' })
    expect(handle.getAttribute('aria-describedby')).toBe('board-help')

    handle.focus()
    fireEvent.click(handle) // Enter or Space on the button
    expect(handle.getAttribute('aria-pressed')).toBe('true')
    expect(screen.getByText(/Picked up Big order in Prospecting/)).toBeTruthy()
    fireEvent.keyDown(handle, { key: 'ArrowRight' })
    fireEvent.keyDown(handle, { key: 'ArrowRight' })
    expect(screen.getByText('Big order: over Closed-Won.')).toBeTruthy()
    expect(column('Closed-Won').className).toContain('drop-target')
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false)

    fireEvent.click(handle)
    expect(titlesIn('Closed-Won')).toEqual(['Big order'])
    await waitFor(() => expect(screen.getByText('Big order moved to Closed-Won.')).toBeTruthy())
    expect(calls.filter((c) => c.method === 'PATCH').map((c) => c.body)).toEqual([{ stage_id: 3 }])
    // The focus follows the card to its new column.
    expect(document.activeElement).toBe(screen.getByRole('button', { name: 'Move Big order' }))
    expect(within(column('Closed-Won')).getByRole('button', { name: 'Move Big order' })).toBeTruthy()
  })

  it('cancels a keyboard move with Escape and stays within the stages', async () => {
    const calls = await board()
    const handle = screen.getByRole('button', { name: 'Move Pilot' })
    fireEvent.click(handle)
    for (let i = 0; i < 5; i++) fireEvent.keyDown(handle, { key: 'ArrowLeft' })
    expect(screen.getByText('Pilot: over Prospecting.')).toBeTruthy()
    fireEvent.keyDown(handle, { key: 'Escape' })
    expect(screen.getByText('Move cancelled. Pilot stays in Negotiation.')).toBeTruthy()
    expect(handle.getAttribute('aria-pressed')).toBe('false')
    expect(titlesIn('Negotiation')).toEqual(['Pilot'])
    expect(calls.some((c) => c.method === 'PATCH')).toBe(false)
  })

  it('shows a loading state, then errors that say what happened', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(() => Promise.reject(new TypeError('Failed to fetch'))),
    )
    renderWithApp(<Board />)
    expect(screen.getByRole('status').textContent).toBe('Loading the pipeline…')
    expect((await screen.findByRole('alert')).textContent).toContain('The server cannot be reached')
  })

  it('links to sign in when the session has ended', async () => {
    mockApi({
      'GET /crm/api/stages/': json({ detail: 'Authentication credentials were not provided.' }, 403),
      'GET /crm/api/deals/': page([]),
    })
    renderWithApp(<Board />)
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toContain('You are signed out. Sign in again to continue.')
    expect(within(alert).getByRole('link', { name: 'Sign in' }).getAttribute('href')).toBe('/accounts/login/?next=%2F')
  })

  it('has empty states for no deals and no stages', async () => {
    mockApi({ 'GET /crm/api/stages/': page(stages), 'GET /crm/api/deals/': page([]) })
    renderWithApp(<Board />)
    expect(await screen.findByText(/No deals yet/)).toBeTruthy()
    expect(screen.getByRole('link', { name: 'Add the first deal' }).getAttribute('href')).toBe('/deals/new/')
    cleanup()
    mockApi({ 'GET /crm/api/stages/': page([]), 'GET /crm/api/deals/': page([]) })
    renderWithApp(<Board />)
    expect(await screen.findByRole('heading', { name: 'No pipeline stages' })).toBeTruthy()
  })
})
