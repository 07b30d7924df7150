import { fireEvent, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import DealDetail from './DealDetail'
import { dealDetail, deferred, json, mockApi, page, renderWithApp, stages } from './testing'

function fact(term: string) {
  const dt = screen.getAllByRole('term').find((t) => t.textContent === term)!
  return dt.nextElementSibling as HTMLElement
}

describe('DealDetail', () => {
  it('shows value, stage, expected close date, contact, company and notes', async () => {
    mockApi({
      'GET /crm/api/deals/10/': dealDetail(10, 'Big order', 2, '1500.00'),
      'GET /crm/api/stages/': page(stages),
    })
    renderWithApp(<DealDetail id={10} />)
    expect(screen.getByRole('status').textContent).toBe('Loading the deal…')
    expect(await screen.findByRole('heading', { level: 1, name: 'Big order' })).toBeTruthy()
    expect(fact('Value').textContent).toBe('$1,500.00')
    expect((screen.getByLabelText('Stage') as HTMLSelectElement).value).toBe('2')
    expect(fact('Expected close date').textContent).toBe('Mar 1, 2026')
    expect(fact('Probability').textContent).toBe('60%')
    expect(within(fact('Contact')).getByRole('link', { name: 'Ada Byron' }).getAttribute('href')).toBe('/contacts/7/')
    expect(fact('Company').textContent).toBe('Acme')
    expect(fact('Tags').textContent).toBe('vip')
    const notes = screen.getByRole('list', { name: 'Notes, newest first' })
    expect(
      within(notes)
        .getAllByRole('listitem')
        .map((li) => li.querySelector('.note-text')?.textContent),
    ).toEqual(['First call went well.'])
    expect(notes.textContent).toContain('Alice Lane')
  })

  it('adds a note to the deal', async () => {
    const answer = deferred<Response>()
    const calls = mockApi({
      'GET /crm/api/deals/10/': dealDetail(10, 'Big order', 2, '1500.00'),
      'GET /crm/api/stages/': page(stages),
      'POST /crm/api/deals/10/notes/': () => answer.promise,
    })
    renderWithApp(<DealDetail id={10} />)
    await screen.findByRole('heading', { level: 1, name: 'Big order' })
    fireEvent.change(screen.getByLabelText('Add a note'), { target: { value: '  Sent the quote.  ' } })
    fireEvent.click(screen.getByRole('button', { name: 'Add note' }))
    expect((screen.getByRole('button', { name: 'Adding…' }) as HTMLButtonElement).disabled).toBe(true)
    answer.resolve(
      json({ id: 12, text: 'Sent the quote.', created_by_name: 'Alice Lane', created_at: '2026-01-06T08:30:00Z' }, 201),
    )
    await waitFor(() =>
      expect(
        within(screen.getByRole('list', { name: 'Notes, newest first' }))
          .getAllByRole('listitem')
          .map((li) => li.querySelector('.note-text')?.textContent),
      ).toEqual(['Sent the quote.', 'First call went well.']),
    )
    expect((screen.getByLabelText('Add a note') as HTMLTextAreaElement).value).toBe('')
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.body).toEqual({ text: 'Sent the quote.' })
    expect(post.headers['X-CSRFTOKEN']).toBe('page-token')
  })

  it('says why a note was not added and keeps the text', async () => {
    mockApi({
      'GET /crm/api/deals/10/': dealDetail(10, 'Big order', 2, '1500.00'),
      'GET /crm/api/stages/': page(stages),
      'POST /crm/api/deals/10/notes/': json({ detail: 'CSRF Failed: CSRF token missing.' }, 403),
    })
    renderWithApp(<DealDetail id={10} />)
    await screen.findByRole('heading', { level: 1, name: 'Big order' })
    fireEvent.click(screen.getByRole('button', { name: 'Add note' }))
    expect((await screen.findByRole('alert')).textContent).toBe('Write the note first.')
    fireEvent.change(screen.getByLabelText('Add a note'), { target: { value: 'Hello' } })
    fireEvent.click(screen.getByRole('button', { name: 'Add note' }))
    await waitFor(() => expect(screen.getByRole('alert').textContent).toContain('CSRF Failed: CSRF token missing.'))
    expect(screen.getByRole('alert').textContent).toContain('Reload the page')
    expect((screen.getByLabelText('Add a note') as HTMLTextAreaElement).value).toBe('Hello')
  })

  it('moves the deal to another stage, and back when that fails', async () => {
    const calls = mockApi({
      'GET /crm/api/deals/10/': dealDetail(10, 'Big order', 2, '1500.00'),
      'GET /crm/api/stages/': page(stages),
      'PATCH /crm/api/deals/10/': json({ detail: 'You do not have permission to perform this action.' }, 403),
    })
    renderWithApp(<DealDetail id={10} />)
    await screen.findByRole('heading', { level: 1, name: 'Big order' })
    fireEvent.change(screen.getByLabelText('Stage'), { target: { value: '3' } })
    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toContain('Could not move the deal to Closed-Won: You are not allowed to do that')
    expect((screen.getByLabelText('Stage') as HTMLSelectElement).value).toBe('2')
    expect(calls.find((c) => c.method === 'PATCH')?.body).toEqual({ stage_id: 3 })
  })

  it('says when the deal does not exist', async () => {
    mockApi({
      'GET /crm/api/deals/99/': json({ detail: 'No Deal matches the given query.' }, 404),
      'GET /crm/api/stages/': page(stages),
    })
    renderWithApp(<DealDetail id={99} />)
    const alert = (await screen.findByRole('alert')).textContent
    expect(alert).toContain('Not found: it may have been deleted.')
    expect(alert).not.toContain('No Deal matches')
    expect(screen.getByRole('link', { name: 'Back to the pipeline' })).toBeTruthy()
  })
})
