import { fireEvent, render, screen, waitFor, within } from '@testing-library/react'
import { describe, expect, it } from 'vitest'
import App from './App'
import { readConfig } from './config'
import { parseRoute } from './router'
import { config, contactSummary, dealSummary, mockApi, page, stages } from './testing'

function routes() {
  return mockApi({
    'GET /crm/api/stages/': page(stages),
    'GET /crm/api/deals/': page([dealSummary(10, 'Big order', 1, '10.00')]),
    'GET /crm/api/contacts/': page([contactSummary(1, 'Ada', 'Byron', 'Acme')]),
  })
}

describe('App', () => {
  it('has a layout with navigation, the signed-in user and a sign-out form', async () => {
    routes()
    document.cookie = 'csrftoken=cookie-token'
    render(<App config={config} />)
    await screen.findByRole('link', { name: 'Big order' })
    const nav = screen.getByRole('navigation', { name: 'Main' })
    expect(within(nav).getByRole('link', { name: 'Pipeline' }).getAttribute('aria-current')).toBe('page')
    expect(within(nav).getByRole('link', { name: 'Contacts' }).getAttribute('aria-current')).toBeNull()
    expect(within(nav).getByText('Alice Lane')).toBeTruthy()
    const signOut = within(nav).getByRole('button', { name: 'Sign out' }).closest('form')!
    expect(signOut.getAttribute('method')).toBe('post')
    expect(signOut.getAttribute('action')).toBe('/accounts/logout/')
    // The cookie's token wins over the page's: it follows sign-ins in other tabs.
    expect((signOut.elements.namedItem('csrfmiddlewaretoken') as HTMLInputElement).value).toBe('cookie-token')
    expect(document.title).toBe('Pipeline · demo CRM')
  })

  it('navigates without reloading and moves the focus to the new page', async () => {
    const calls = routes()
    render(<App config={config} />)
    await screen.findByRole('link', { name: 'Big order' })
    fireEvent.click(screen.getByRole('link', { name: 'Contacts' }))
    expect(window.location.pathname).toBe('/contacts/')
    expect(await screen.findByRole('link', { name: 'Ada Byron' })).toBeTruthy()
    expect(document.activeElement?.id).toBe('main')
    expect(screen.getByRole('link', { name: 'Contacts' }).getAttribute('aria-current')).toBe('page')
    window.history.back()
    await waitFor(() => expect(window.location.pathname).toBe('/'))
    expect(await screen.findByRole('heading', { name: 'Pipeline' })).toBeTruthy()
    expect(calls.filter((c) => c.path === '/crm/api/deals/')).toHaveLength(2)
  })

  it('says when the crm module is missing', () => {
    render(<App config={{ ...config, api: null }} />)
    expect(screen.getByRole('heading', { name: 'The crm module is not installed' })).toBeTruthy()
    expect(screen.getByText('git quickscale plan --add crm')).toBeTruthy()
  })

  it('shows a page for unknown routes', () => {
    window.history.replaceState(null, '', '/deals/abc/')
    render(<App config={config} />)
    expect(screen.getByRole('heading', { name: 'Page not found' })).toBeTruthy()
  })
})

describe('routes and config', () => {
  it('parses the routes that Django serves the app on', () => {
    expect(parseRoute('/', '')).toEqual({ name: 'board' })
    expect(parseRoute('/deals/', '')).toEqual({ name: 'board' })
    expect(parseRoute('/contacts/', '?q=ada&page=3')).toEqual({ name: 'contacts', search: 'ada', page: 3 })
    expect(parseRoute('/contacts/', '?page=-1')).toEqual({ name: 'contacts', search: '', page: 1 })
    expect(parseRoute('/contacts/new/', '')).toEqual({ name: 'contact-new' })
    expect(parseRoute('/contacts/12/', '')).toEqual({ name: 'contact', id: 12 })
    expect(parseRoute('/deals/new/', '?stage=2')).toEqual({ name: 'deal-new', stage: 2 })
    expect(parseRoute('/deals/7/', '')).toEqual({ name: 'deal', id: 7 })
    expect(parseRoute('/deals/7', '')).toEqual({ name: 'not-found' })
  })

  it('reads the config the page embeds', () => {
    document.body.innerHTML = `<script id="crm-config" type="application/json">${JSON.stringify({
      ...config,
      api: '/sales/api/',
    })}</script>`
    expect(readConfig().api).toBe('/sales/api/')
    document.body.innerHTML = ''
    expect(readConfig().api).toBe('/crm/api/')
  })
})
