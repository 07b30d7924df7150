// What Django tells the app about the signed-in user and where things live.
// The page embeds it as JSON (<script id="crm-config">, see templates/index.html
// and app_config() in the project's views.py).

export type AppConfig = {
  project: string
  user: { username: string; name: string }
  /** Base URL of the crm module's REST API, e.g. "/crm/api/"; null without the crm module. */
  api: string | null
  crmDashboard: string | null
  login: string
  logout: string | null
  admin: string | null
  /** CSRF token for this session; the cookie, when there is one, is fresher. */
  csrfToken: string
  csrfHeader: string
  csrfCookie: string | null
  /** The crm module's `contacts_per_page` option. */
  contactsPerPage: number
}

/** Defaults for `npm run dev` on its own, where no Django page embeds the config. */
export const DEFAULT_CONFIG: AppConfig = {
  project: 'CRM',
  user: { username: '', name: '' },
  api: '/crm/api/',
  crmDashboard: '/crm/',
  login: '/accounts/login/',
  logout: '/accounts/logout/',
  admin: '/admin/',
  csrfToken: '',
  csrfHeader: 'X-CSRFToken',
  csrfCookie: 'csrftoken',
  contactsPerPage: 25,
}

export function readConfig(doc: Document = document): AppConfig {
  const text = doc.getElementById('crm-config')?.textContent
  if (!text) return DEFAULT_CONFIG
  return { ...DEFAULT_CONFIG, ...(JSON.parse(text) as Partial<AppConfig>) }
}

/** The CSRF token to send: the cookie's (it follows sign-ins in other tabs), else the page's. */
export function csrfToken(config: AppConfig, cookies: string = document.cookie): string {
  if (config.csrfCookie) {
    for (const part of cookies.split(';')) {
      const [name, ...value] = part.trim().split('=')
      if (name === config.csrfCookie && value.length) return decodeURIComponent(value.join('='))
    }
  }
  return config.csrfToken
}
