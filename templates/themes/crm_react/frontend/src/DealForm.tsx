// A new deal: title, contact, stage, value, expected close date, probability.
import { useEffect, useState, type FormEvent } from 'react'
import { ApiError, type ContactSummary, type Stage } from './api'
import { useApp } from './context'
import { Field, SelectField, type FieldErrors } from './fields'
import { ErrorNotice, Loading } from './notices'
import { Link, navigate } from './router'

type Load =
  | { status: 'loading' }
  | { status: 'error'; error: unknown }
  | { status: 'ready'; stages: Stage[]; contacts: ContactSummary[] }

export default function DealForm({ stage }: { stage: number | null }) {
  const { api } = useApp()
  const [load, setLoad] = useState<Load>({ status: 'loading' })
  const [form, setForm] = useState({ title: '', contact: '', stage: '', amount: '', close: '', probability: '50' })
  const [errors, setErrors] = useState<FieldErrors>({})
  const [error, setError] = useState<unknown>(null)
  const [saving, setSaving] = useState(false)

  useEffect(() => {
    let live = true
    Promise.all([api.stages(), api.allContacts()])
      .then(([stages, contacts]) => {
        if (!live) return
        const sorted = [...stages].sort((a, b) => a.order - b.order)
        const first = sorted.find((s) => s.id === stage) ?? sorted[0]
        setForm((f) => ({ ...f, stage: first ? String(first.id) : '' }))
        setLoad({ status: 'ready', stages: sorted, contacts })
      })
      .catch((error: unknown) => live && setLoad({ status: 'error', error }))
    return () => {
      live = false
    }
  }, [api, stage])

  if (load.status === 'loading') return <Loading label="Loading the deal form…" />
  if (load.status === 'error') {
    return (
      <>
        <h1>New deal</h1>
        <ErrorNotice error={load.error} />
      </>
    )
  }
  if (load.contacts.length === 0) {
    return (
      <>
        <h1>New deal</h1>
        <div className="card empty">
          <p>
            A deal belongs to a contact. <Link to="/contacts/new/">Add a contact</Link> first.
          </p>
        </div>
      </>
    )
  }

  const set = (field: keyof typeof form) => (event: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [field]: event.target.value }))

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault()
    setSaving(true)
    setErrors({})
    setError(null)
    try {
      await api.createDeal({
        title: form.title.trim(),
        contact_id: Number(form.contact),
        stage_id: Number(form.stage),
        amount: form.amount.trim() || null,
        expected_close_date: form.close || null,
        probability: Number(form.probability || 0),
      })
      navigate('/')
    } catch (e) {
      if (e instanceof ApiError) setErrors(e.fields)
      setError(e)
      setSaving(false)
    }
  }

  return (
    <>
      <h1>New deal</h1>
      {error !== null && <ErrorNotice error={error} />}
      <form className="card form" onSubmit={onSubmit} noValidate>
        <div className="form-grid">
          <Field name="title" label="Title" required value={form.title} onChange={set('title')} errors={errors} />
          <SelectField
            name="contact"
            label="Contact"
            required
            value={form.contact}
            onChange={set('contact')}
            errors={errors}
            errorKey="contact_id"
          >
            <option value="">Choose a contact…</option>
            {load.contacts.map((c) => (
              <option key={c.id} value={c.id}>
                {c.full_name} ({c.company_name})
              </option>
            ))}
          </SelectField>
          <SelectField
            name="stage"
            label="Stage"
            value={form.stage}
            onChange={set('stage')}
            errors={errors}
            errorKey="stage_id"
          >
            {load.stages.map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </SelectField>
          <Field
            name="amount"
            label="Value (USD)"
            type="number"
            min="0"
            step="0.01"
            inputMode="decimal"
            value={form.amount}
            onChange={set('amount')}
            errors={errors}
          />
          <Field
            name="close"
            label="Expected close date"
            type="date"
            value={form.close}
            onChange={set('close')}
            errors={errors}
            errorKey="expected_close_date"
          />
          <Field
            name="probability"
            label="Probability (%)"
            type="number"
            min="0"
            max="100"
            value={form.probability}
            onChange={set('probability')}
            errors={errors}
          />
        </div>
        <p className="actions">
          <button type="submit" className="button" disabled={saving}>
            {saving ? 'Saving…' : 'Create deal'}
          </button>
          <Link className="button secondary" to="/">
            Cancel
          </Link>
        </p>
      </form>
    </>
  )
}
