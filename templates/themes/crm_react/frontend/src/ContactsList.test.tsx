import { cleanup, fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { beforeEach, describe, expect, it } from 'vitest'
import App from './App'
import ContactsList from './ContactsList'
import { config, contactSummary, json, mockApi, page, renderWithApp } from './testing'

beforeEach(() => window.history.replaceState(null, '', '/contacts/'))

const ada = contactSummary(1, 'Ada', 'Byron', 'Acme', ['vip', 'tech'])
const grace = contactSummary(2, 'Grace', 'Hopper', 'Navy')
const alan = contactSummary(3, 'Alan', 'Turing', 'Bletchley')

describe('ContactsList', () => {
  it('lists contacts with company, email, tags and status, a page at a time', async () => {
    const calls = mockApi({
      'GET /crm/api/contacts/': page([ada, grace], 'http://testserver/crm/api/contacts/?page=2&page_size=2', 3),
    })
    renderWithApp(<ContactsList search="" page={1} />)
    expect(screen.getByRole('status').textContent).toBe('Loading contacts…')
    const table = await screen.findByRole('table')
    const rows = within(table).getAllByRole('row').slice(1)
    expect(
      rows.map((r) =>
        within(r)
          .getAllByRole('cell')
          .map((c) => c.textContent),
      ),
    ).toEqual([
      ['Ada Byron', 'Acme', 'ada@example.com', 'viptech', 'New'],
      ['Grace Hopper', 'Navy', 'grace@example.com', '', 'New'],
    ])
    expect(within(rows[0]).getByRole('link', { name: 'Ada Byron' }).getAttribute('href')).toBe('/contacts/1/')
    expect(screen.getByText('Page 1 of 2 · 3 contacts')).toBeTruthy()
    expect(screen.getByRole('link', { name: 'Next' }).getAttribute('href')).toBe('/contacts/?page=2')
    expect(screen.queryByRole('link', { name: 'Previous' })).toBeNull()
    // The page size is the crm module's contacts_per_page.
    expect(calls[0].query.toString()).toBe('page=1&page_size=2')
  })

  it('searches and pages through the results, keeping both in the URL', async () => {
    const calls = mockApi({
      'GET /crm/api/contacts/': ({ query }: { query: URLSearchParams }) =>
        query.get('search') === 'a'
          ? json(
              query.get('page') === '2'
                ? {
                    count: 3,
                    next: null,
                    previous: 'http://testserver/crm/api/contacts/?page_size=2&search=a',
                    results: [alan],
                  }
                : page([ada, grace], 'http://testserver/crm/api/contacts/?page=2&page_size=2&search=a', 3),
            )
          : json(page([ada, grace, alan])),
    })
    render(<App config={config} />)
    await screen.findByRole('table')

    fireEvent.change(screen.getByRole('searchbox', { name: 'Search contacts' }), { target: { value: ' a ' } })
    fireEvent.click(screen.getByRole('button', { name: 'Search' }))
    await waitFor(() => expect(window.location.search).toBe('?q=a'))
    expect(await screen.findByText('Page 1 of 2 · 3 contacts')).toBeTruthy()

    fireEvent.click(screen.getByRole('link', { name: 'Next' }))
    expect(window.location.pathname + window.location.search).toBe('/contacts/?q=a&page=2')
    expect(await screen.findByText('Page 2 of 2 · 3 contacts')).toBeTruthy()
    expect(screen.getByRole('link', { name: 'Alan Turing' })).toBeTruthy()
    expect(screen.getByRole('link', { name: 'Previous' }).getAttribute('href')).toBe('/contacts/?q=a')
    expect(calls.map((c) => c.query.toString())).toEqual([
      'page=1&page_size=2',
      'page=1&page_size=2&search=a',
      'page=2&page_size=2&search=a',
    ])
  })

  it('says when there are no contacts, or none that match', async () => {
    mockApi({ 'GET /crm/api/contacts/': page([]) })
    renderWithApp(<ContactsList search="" page={1} />)
    expect(await screen.findByRole('link', { name: 'Add the first contact' })).toBeTruthy()
    cleanup()
    renderWithApp(<ContactsList search="zebra" page={1} />)
    expect(await screen.findByText(/No contacts match “zebra”/)).toBeTruthy()
    expect(screen.getByRole('link', { name: 'Show all contacts' }).getAttribute('href')).toBe('/contacts/')
  })

  it('reports a failed load', async () => {
    mockApi({ 'GET /crm/api/contacts/': json({ detail: 'Invalid page.' }, 404) })
    renderWithApp(<ContactsList search="" page={9} />)
    expect((await screen.findByRole('alert')).textContent).toContain('Invalid page.')
  })
})
