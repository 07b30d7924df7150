// Contacts: search (name, email, company), pages of the crm module's
// `contacts_per_page`, and links to create and edit contacts. The search and
// page live in the URL (?q=…&page=…), so Back and reloads keep them.
import { useEffect, useState, type FormEvent } from 'react'
import { CONTACT_STATUSES, type ContactSummary, type Page } from './api'
import { useApp } from './context'
import { ErrorNotice, Loading } from './notices'
import { Link, navigate } from './router'

type Load =
  { status: 'loading' } | { status: 'error'; error: unknown } | { status: 'ready'; page: Page<ContactSummary> }

export function contactsUrl(search: string, page = 1): string {
  const params = new URLSearchParams()
  if (search) params.set('q', search)
  if (page > 1) params.set('page', String(page))
  const query = params.toString()
  return `/contacts/${query ? `?${query}` : ''}`
}

const statusLabel = Object.fromEntries(CONTACT_STATUSES)

export default function ContactsList({ search, page }: { search: string; page: number }) {
  const { api, config } = useApp()
  const [load, setLoad] = useState<Load>({ status: 'loading' })
  const [query, setQuery] = useState(search)
  const pageSize = config.contactsPerPage

  useEffect(() => setQuery(search), [search])

  useEffect(() => {
    let live = true
    setLoad({ status: 'loading' })
    api
      .contacts({ search, page, pageSize })
      .then((data) => live && setLoad({ status: 'ready', page: data }))
      .catch((error: unknown) => live && setLoad({ status: 'error', error }))
    return () => {
      live = false
    }
  }, [api, search, page, pageSize])

  const onSearch = (event: FormEvent) => {
    event.preventDefault()
    navigate(contactsUrl(query.trim()))
  }

  const pages = load.status === 'ready' ? Math.max(1, Math.ceil(load.page.count / pageSize)) : 1

  return (
    <>
      <div className="page-head">
        <h1>Contacts</h1>
        <p className="actions">
          <Link className="button" to="/contacts/new/">
            New contact
          </Link>
        </p>
      </div>
      <form role="search" className="search" onSubmit={onSearch}>
        <label htmlFor="contact-search">Search contacts</label>
        <div className="search-row">
          <input
            id="contact-search"
            type="search"
            value={query}
            placeholder="Name, email or company"
            onChange={(e) => setQuery(e.target.value)}
          />
          <button type="submit" className="button secondary">
            Search
          </button>
        </div>
      </form>
      {load.status === 'loading' && <Loading label="Loading contacts…" />}
      {load.status === 'error' && <ErrorNotice error={load.error} />}
      {load.status === 'ready' && load.page.count === 0 && (
        <div className="card empty">
          {search ? (
            <p>
              No contacts match “{search}”. <Link to="/contacts/">Show all contacts</Link>
            </p>
          ) : (
            <p>
              No contacts yet. <Link to="/contacts/new/">Add the first contact</Link>.
            </p>
          )}
        </div>
      )}
      {load.status === 'ready' && load.page.results.length > 0 && (
        <>
          <div className="table-wrap">
            <table className="contacts">
              <caption className="visually-hidden">
                Contacts{search ? ` matching “${search}”` : ''}, page {page} of {pages}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Company</th>
                  <th scope="col">Email</th>
                  <th scope="col">Tags</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {load.page.results.map((contact) => (
                  <tr key={contact.id}>
                    <td>
                      <Link to={`/contacts/${contact.id}/`}>{contact.full_name}</Link>
                      {contact.title && <span className="muted"> · {contact.title}</span>}
                    </td>
                    <td>{contact.company_name}</td>
                    <td>
                      <a href={`mailto:${contact.email}`}>{contact.email}</a>
                    </td>
                    <td>
                      <ul className="tags" aria-label="Tags">
                        {contact.tag_names.map((tag) => (
                          <li key={tag} className="tag">
                            {tag}
                          </li>
                        ))}
                      </ul>
                    </td>
                    <td>{statusLabel[contact.status] ?? contact.status}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <nav className="pagination" aria-label="Pages">
            {page > 1 ? (
              <Link className="button secondary" to={contactsUrl(search, page - 1)} rel="prev">
                Previous
              </Link>
            ) : (
              <span />
            )}
            <p>
              Page {page} of {pages} · {load.page.count} {load.page.count === 1 ? 'contact' : 'contacts'}
            </p>
            {load.page.next ? (
              <Link className="button secondary" to={contactsUrl(search, page + 1)} rel="next">
                Next
              </Link>
            ) : (
              <span />
            )}
          </nav>
        </>
      )}
    </>
  )
}
