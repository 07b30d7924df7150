import { fireEvent, screen, waitFor } from '@testing-library/react'
import { beforeEach, describe, expect, it } from 'vitest'
import ContactForm from './ContactForm'
import { json, mockApi, page, renderWithApp } from './testing'

beforeEach(() => window.history.replaceState(null, '', '/contacts/new/'))

const companies = [{ id: 3, name: 'Acme', industry: '', website: '' }]
const tags = [
  { id: 1, name: 'vip' },
  { id: 2, name: 'tech' },
]

function type(label: string, value: string) {
  fireEvent.change(screen.getByLabelText(label, { exact: false }), { target: { value } })
}

describe('ContactForm', () => {
  it('creates a contact with a new company and new tags', async () => {
    const calls = mockApi({
      'GET /crm/api/companies/': page(companies),
      'GET /crm/api/tags/': page(tags),
      'POST /crm/api/companies/': json({ id: 9, name: 'Globex', industry: '', website: '' }, 201),
      'POST /crm/api/tags/': json({ id: 5, name: 'lead' }, 201),
      'POST /crm/api/contacts/': json({ id: 20 }, 201),
    })
    renderWithApp(<ContactForm id={null} />)
    await screen.findByRole('heading', { name: 'New contact' })
    type('First name', 'Grace')
    type('Last name', 'Hopper')
    type('Email', 'grace@example.com')
    fireEvent.change(screen.getByLabelText('Company', { exact: false }), { target: { value: 'new' } })
    type('Company name', 'Globex')
    fireEvent.click(screen.getByRole('checkbox', { name: 'vip' }))
    type('New tags', 'lead, VIP')
    fireEvent.click(screen.getByRole('button', { name: 'Create contact' }))

    await waitFor(() => expect(window.location.pathname).toBe('/contacts/'))
    const posts = calls.filter((c) => c.method === 'POST')
    expect(posts.map((c) => [c.path, c.body])).toEqual([
      ['/crm/api/companies/', { name: 'Globex' }],
      ['/crm/api/tags/', { name: 'lead' }],
      [
        '/crm/api/contacts/',
        {
          first_name: 'Grace',
          last_name: 'Hopper',
          email: 'grace@example.com',
          phone: '',
          title: '',
          status: 'new',
          company_id: 9,
          tag_ids: [1, 5],
        },
      ],
    ])
    expect(posts.every((c) => c.headers['X-CSRFTOKEN'] === 'page-token')).toBe(true)
  })

  it('edits a contact and shows the errors the API returns per field', async () => {
    const calls = mockApi({
      'GET /crm/api/companies/': page(companies),
      'GET /crm/api/tags/': page(tags),
      'GET /crm/api/contacts/4/': {
        id: 4,
        first_name: 'Ada',
        last_name: 'Byron',
        full_name: 'Ada Byron',
        email: 'ada@example.com',
        phone: '',
        title: 'CTO',
        status: 'contacted',
        company: companies[0],
        tags: [tags[1]],
        notes: [],
        deal_count: 1,
      },
      'PATCH /crm/api/contacts/4/': json({ email: ['Enter a valid email address.'] }, 400),
    })
    renderWithApp(<ContactForm id={4} />)
    await screen.findByRole('heading', { name: 'Edit contact' })
    expect((screen.getByLabelText('Job title') as HTMLInputElement).value).toBe('CTO')
    expect((screen.getByLabelText('Status') as HTMLSelectElement).value).toBe('contacted')
    expect((screen.getByRole('checkbox', { name: 'tech' }) as HTMLInputElement).checked).toBe(true)

    type('Email', 'not an email')
    fireEvent.click(screen.getByRole('button', { name: 'Save changes' }))

    const alert = await screen.findByRole('alert')
    expect(alert.textContent).toContain('email: Enter a valid email address.')
    const email = screen.getByLabelText('Email', { exact: false })
    expect(email.getAttribute('aria-invalid')).toBe('true')
    expect(document.getElementById(email.getAttribute('aria-describedby')!)?.textContent).toBe(
      'Enter a valid email address.',
    )
    const patch = calls.find((c) => c.method === 'PATCH')!
    expect(patch.body).toMatchObject({ email: 'not an email', company_id: 3, tag_ids: [2], title: 'CTO' })
    expect(window.location.pathname).toBe('/contacts/new/')
    // Still on the form, which can be sent again.
    expect((screen.getByRole('button', { name: 'Save changes' }) as HTMLButtonElement).disabled).toBe(false)
  })

  it('asks for a company before sending anything', async () => {
    const calls = mockApi({ 'GET /crm/api/companies/': page(companies), 'GET /crm/api/tags/': page([]) })
    renderWithApp(<ContactForm id={null} />)
    await screen.findByRole('heading', { name: 'New contact' })
    fireEvent.click(screen.getByRole('button', { name: 'Create contact' }))
    expect((await screen.findByRole('alert')).textContent).toContain('the contact needs a company')
    expect(calls.filter((c) => c.method !== 'GET')).toEqual([])
  })
})
