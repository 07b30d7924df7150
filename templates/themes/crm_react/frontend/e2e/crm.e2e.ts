// End-to-end: the CRM in a real, headless Chromium against a running server.
//
//   E2E_BASE_URL    the running Django server, e.g. http://127.0.0.1:8000
//   E2E_USERNAME    a user that can sign in (python manage.py createsuperuser)
//   E2E_PASSWORD    its password
//   E2E_CHROMIUM    the Chromium to drive [default: /usr/bin/chromium]
//   E2E_SCREENSHOT  where to save a screenshot of the board (optional)
//   E2E_SUFFIX      added to the names it creates, so that runs do not collide
//                   [default: a new one each run; empty for plain names]
//
// It signs in through the auth module's page, creates a contact and two deals,
// moves one deal by drag and drop and one with the keyboard, reloads, checks
// that both moves were saved, adds a note and signs out. It adds data: use a
// development database.
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, expect, it } from 'vitest'

function env(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`set ${name} (see the top of e2e/crm.e2e.ts)`)
  return value
}

const base = env('E2E_BASE_URL').replace(/\/$/, '')
let browser: Browser

beforeAll(async () => {
  browser = await chromium.launch({
    executablePath: process.env.E2E_CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
})

afterAll(async () => {
  await browser?.close()
})

const nav = (page: Page) => page.getByRole('navigation', { name: 'Main' })
const column = (page: Page, stage: string) => page.locator(`section.column[data-stage="${stage}"]`)
const card = (page: Page, title: string) => page.locator('li.deal-card', { hasText: title })

/** Waits for the PATCH that saves a move and checks that the API accepted it. */
async function saved(page: Page, move: () => Promise<void>) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.request().method() === 'PATCH' && /\/deals\/\d+\/$/.test(new URL(r.url()).pathname)),
    move(),
  ])
  expect(response.status(), await response.text()).toBe(200)
}

it('signs in, creates a contact and deals, and moves deals by mouse and keyboard', async () => {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 } })
  const page = await context.newPage()
  const problems: string[] = []
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`))
  const suffix = process.env.E2E_SUFFIX ?? Date.now().toString(36)
  const named = (name: string) => (suffix ? `${name} ${suffix}` : name)
  const lastName = named('Lovelace')
  const company = named('Analytical Engines')
  const dragged = named('Website redesign')
  const keyed = named('Support plan')

  // Signed out: the app sends us to the auth module's sign-in page, and back.
  await page.goto(`${base}/`)
  await page.waitForURL(/\/accounts\/login\/\?next=/)
  await page.fill('input[name="login"]', env('E2E_USERNAME'))
  await page.fill('input[name="password"]', env('E2E_PASSWORD'))
  await Promise.all([page.waitForURL(`${base}/`), page.click('form button[type="submit"]')])
  await page.getByRole('heading', { name: 'Pipeline', level: 1 }).waitFor()

  // A contact with a new company.
  await nav(page).getByRole('link', { name: 'Contacts', exact: true }).click()
  await page.getByRole('link', { name: 'New contact' }).click()
  await page.getByLabel('First name').fill('Ada')
  await page.getByLabel('Last name').fill(lastName)
  await page.getByLabel('Email').fill(`ada.${Date.now().toString(36)}@example.com`)
  await page.getByRole('combobox', { name: 'Company', exact: true }).selectOption({ label: 'New company…' })
  await page.getByLabel('Company name').fill(company)
  await page.getByLabel('New tags').fill('vip')
  await page.getByRole('button', { name: 'Create contact' }).click()
  await page.getByRole('searchbox', { name: 'Search contacts' }).fill(lastName)
  await page.getByRole('button', { name: 'Search' }).click()
  const row = page.getByRole('row').filter({ hasText: `Ada ${lastName}` })
  await expect.poll(() => row.textContent()).toContain(company)

  // Two deals, both in the first stage.
  for (const [title, amount] of [
    [dragged, '12000'],
    [keyed, '2400.50'],
  ]) {
    await nav(page).getByRole('link', { name: 'Pipeline', exact: true }).click()
    await page.getByRole('link', { name: 'New deal' }).click()
    await page.getByLabel('Title').fill(title)
    await page.getByLabel('Contact').selectOption({ label: `Ada ${lastName} (${company})` })
    await page.getByLabel('Value (USD)').fill(amount)
    await page.getByLabel('Expected close date').fill('2026-06-30')
    await page.getByRole('button', { name: 'Create deal' }).click()
    await card(page, title).waitFor()
    await expect.poll(() => column(page, 'Prospecting').locator('li.deal-card', { hasText: title }).count()).toBe(1)
  }

  // Drag and drop: Prospecting → Negotiation.
  await saved(page, () => card(page, dragged).dragTo(column(page, 'Negotiation')))
  expect(await column(page, 'Negotiation').locator('li.deal-card', { hasText: dragged }).count()).toBe(1)

  // Keyboard only: focus the move button, pick up, two stages right, drop.
  const handle = page.getByRole('button', { name: `Move ${keyed}` })
  await handle.focus()
  await page.keyboard.press('Enter')
  await page.keyboard.press('ArrowRight')
  await page.keyboard.press('ArrowRight')
  await saved(page, () => page.keyboard.press('Enter'))
  expect(await column(page, 'Closed-Won').locator('li.deal-card', { hasText: keyed }).count()).toBe(1)
  // The focus stayed on the moved deal's button.
  expect(await page.evaluate(() => document.activeElement?.getAttribute('aria-label'))).toBe(`Move ${keyed}`)

  // Both moves were saved: a reload shows them where they were dropped.
  await page.reload()
  await card(page, dragged).waitFor()
  expect(await column(page, 'Negotiation').locator('li.deal-card', { hasText: dragged }).count()).toBe(1)
  expect(await column(page, 'Closed-Won').locator('li.deal-card', { hasText: keyed }).count()).toBe(1)
  for (const title of [dragged, keyed]) {
    expect(await column(page, 'Prospecting').locator('li.deal-card', { hasText: title }).count()).toBe(0)
  }

  // The deal's page: its contact, company and a new note.
  await page.getByRole('link', { name: dragged }).click()
  await page.getByRole('heading', { name: dragged, level: 1 }).waitFor()
  expect(await page.locator('.facts').textContent()).toContain(company)
  await page.getByLabel('Add a note').fill('Kick-off call booked.')
  await page.getByRole('button', { name: 'Add note' }).click()
  await page.getByRole('list', { name: 'Notes, newest first' }).getByText('Kick-off call booked.').waitFor()

  await nav(page).getByRole('link', { name: 'Pipeline', exact: true }).click()
  await card(page, keyed).waitFor()
  if (process.env.E2E_SCREENSHOT) {
    await page.screenshot({ path: process.env.E2E_SCREENSHOT, fullPage: true })
  }

  // Signing out goes through the auth module; the app then asks to sign in again.
  await Promise.all([
    page.waitForURL(/\/accounts\/login\//),
    nav(page).getByRole('button', { name: 'Sign out' }).click(),
  ])
  await page.goto(`${base}/contacts/`)
  await page.waitForURL(/\/accounts\/login\/\?next=\/contacts\//)

  expect(problems).toEqual([])
  await context.close()
})
