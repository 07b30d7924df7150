// Deal values are US dollars (the crm module's Deal.amount).
const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' })
const day = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeZone: 'UTC' })
const moment = new Intl.DateTimeFormat('en-US', { dateStyle: 'medium', timeStyle: 'short' })

export function money(amount: string | number | null | undefined): string {
  if (amount === null || amount === undefined || amount === '') return '—'
  return usd.format(Number(amount))
}

/** The sum of deal amounts (decimal strings); deals without an amount count as 0. */
export function total(amounts: (string | null)[]): number {
  // In cents, so that 0.1 + 0.2 stays 0.30.
  return amounts.reduce((sum, a) => sum + Math.round(Number(a ?? 0) * 100), 0) / 100
}

/** A calendar date such as "2026-03-01", shown as "Mar 1, 2026". */
export function date(iso: string | null | undefined): string {
  return iso ? day.format(new Date(`${iso}T00:00:00Z`)) : '—'
}

export function dateTime(iso: string): string {
  return moment.format(new Date(iso))
}
