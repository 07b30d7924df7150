import { useEffect, useMemo, useRef, type ReactNode } from 'react'
import { Api } from './api'
import Board from './Board'
import { csrfToken, type AppConfig } from './config'
import ContactForm from './ContactForm'
import ContactsList from './ContactsList'
import { AppContext, useApp } from './context'
import DealDetail from './DealDetail'
import DealForm from './DealForm'
import { Link, parseRoute, useLocation, type Route } from './router'

function Page({ route }: { route: Route }) {
  switch (route.name) {
    case 'board':
      return <Board />
    case 'contacts':
      return <ContactsList search={route.search} page={route.page} />
    case 'contact-new':
      return <ContactForm id={null} />
    case 'contact':
      return <ContactForm key={route.id} id={route.id} />
    case 'deal-new':
      return <DealForm stage={route.stage} />
    case 'deal':
      return <DealDetail key={route.id} id={route.id} />
    case 'not-found':
      return (
        <section className="error-page">
          <h1>Page not found</h1>
          <p>
            <Link to="/">Back to the pipeline</Link>
          </p>
        </section>
      )
  }
}

function SignOut() {
  const { config } = useApp()
  if (!config.logout) return null
  // The auth module signs out on POST (with the CSRF token), then comes back to /.
  return (
    <form method="post" action={config.logout} className="sign-out">
      <input type="hidden" name="csrfmiddlewaretoken" value={csrfToken(config)} />
      <button type="submit" className="link-button">
        Sign out
      </button>
    </form>
  )
}

function Layout({ route, children }: { route: Route; children: ReactNode }) {
  const { config } = useApp()
  const section = route.name === 'board' || route.name.startsWith('deal') ? 'pipeline' : 'contacts'
  const current = (name: string) => (section === name && route.name !== 'not-found' ? 'page' : undefined)
  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <nav className="container wide nav" aria-label="Main">
          <Link className="brand" to="/">
            {config.project} CRM
          </Link>
          <ul className="nav-links">
            <li>
              <Link to="/" aria-current={current('pipeline')}>
                Pipeline
              </Link>
            </li>
            <li>
              <Link to="/contacts/" aria-current={current('contacts')}>
                Contacts
              </Link>
            </li>
            {config.admin && (
              <li>
                <a href={config.admin}>Admin</a>
              </li>
            )}
            {config.user.name && <li className="user">{config.user.name}</li>}
            <li>
              <SignOut />
            </li>
          </ul>
        </nav>
      </header>
      <main id="main" className="container wide" tabIndex={-1}>
        {children}
      </main>
      <footer className="site-footer">
        <div className="container wide">
          <p>{config.project} · a CRM on the QuickScale crm module · built with Django, React and git-quickscale</p>
        </div>
      </footer>
    </>
  )
}

export default function App({ config }: { config: AppConfig }) {
  const { pathname, search } = useLocation()
  const route = parseRoute(pathname, search)
  const api = useMemo(
    () => (config.api ? new Api(config.api, () => csrfToken(config), config.csrfHeader) : null),
    [config],
  )
  // After a client-side navigation, move the focus to the new page, as a page load would.
  const first = useRef(true)
  useEffect(() => {
    if (first.current) {
      first.current = false
      return
    }
    document.getElementById('main')?.focus()
    window.scrollTo?.(0, 0)
  }, [pathname])
  useEffect(() => {
    const titles: Record<Route['name'], string> = {
      board: 'Pipeline',
      contacts: 'Contacts',
      'contact-new': 'New contact',
      contact: 'Contact',
      'deal-new': 'New deal',
      deal: 'Deal',
      'not-found': 'Page not found',
    }
    document.title = `${titles[route.name]} · ${config.project} CRM`
  }, [route.name, config.project])

  if (!api) {
    return (
      <AppContext.Provider value={{ config, api: new Api('/', () => '') }}>
        <Layout route={route}>
          <div className="card">
            <h1>The crm module is not installed</h1>
            <p>
              This app works on the crm module's API. Add it with <code>git quickscale plan --add crm</code> and{' '}
              <code>git quickscale apply</code>, then run <code>python manage.py migrate</code>.
            </p>
          </div>
        </Layout>
      </AppContext.Provider>
    )
  }
  return (
    <AppContext.Provider value={{ config, api }}>
      <Layout route={route}>
        <Page route={route} />
      </Layout>
    </AppContext.Provider>
  )
}
