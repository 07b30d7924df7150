// Create or edit a contact: name, email, phone, job title, status, company
// (an existing one or a new one) and tags (existing ones and new ones).
import { useEffect, useState, type FormEvent } from 'react'
import { ApiError, CONTACT_STATUSES, type Company, type Contact, type ContactInput, type Tag } from './api'
import { useApp } from './context'
import { Field, SelectField, type FieldErrors } from './fields'
import { ErrorNotice, Loading } from './notices'
import { Link, navigate } from './router'

const NEW_COMPANY = 'new'

type Form = {
  first_name: string
  last_name: string
  email: string
  phone: string
  title: string
  status: string
  company: string
  newCompany: string
  tags: number[]
  newTags: string
}

const EMPTY: Form = {
  first_name: '',
  last_name: '',
  email: '',
  phone: '',
  title: '',
  status: 'new',
  company: '',
  newCompany: '',
  tags: [],
  newTags: '',
}

function fromContact(c: Contact): Form {
  return {
    ...EMPTY,
    first_name: c.first_name,
    last_name: c.last_name,
    email: c.email,
    phone: c.phone,
    title: c.title,
    status: c.status,
    company: String(c.company.id),
    tags: c.tags.map((t) => t.id),
  }
}

type Load = { status: 'loading' } | { status: 'error'; error: unknown } | { status: 'ready' }

export default function ContactForm({ id }: { id: number | null }) {
  const { api } = useApp()
  const [load, setLoad] = useState<Load>({ status: 'loading' })
  const [companies, setCompanies] = useState<Company[]>([])
  const [tags, setTags] = useState<Tag[]>([])
  const [form, setForm] = useState<Form>(EMPTY)
  const [errors, setErrors] = useState<FieldErrors>({})
  const [error, setError] = useState<unknown>(null)
  const [saving, setSaving] = useState(false)

  useEffect(() => {
    let live = true
    Promise.all([api.companies(), api.tags(), id === null ? null : api.contact(id)])
      .then(([companies, tags, contact]) => {
        if (!live) return
        setCompanies(companies)
        setTags(tags)
        setForm(contact ? fromContact(contact) : { ...EMPTY, company: companies.length ? '' : NEW_COMPANY })
        setLoad({ status: 'ready' })
      })
      .catch((error: unknown) => live && setLoad({ status: 'error', error }))
    return () => {
      live = false
    }
  }, [api, id])

  const heading = id === null ? 'New contact' : 'Edit contact'
  if (load.status === 'loading') return <Loading label="Loading the contact form…" />
  if (load.status === 'error') {
    return (
      <>
        <h1>{heading}</h1>
        <ErrorNotice error={load.error} />
        <p>
          <Link to="/contacts/">Back to the contacts</Link>
        </p>
      </>
    )
  }

  const set = (field: keyof Form) => (event: { target: { value: string } }) =>
    setForm((f) => ({ ...f, [field]: event.target.value }))
  const toggleTag = (tag: number) =>
    setForm((f) => ({ ...f, tags: f.tags.includes(tag) ? f.tags.filter((t) => t !== tag) : [...f.tags, tag] }))

  const onSubmit = async (event: FormEvent) => {
    event.preventDefault()
    if (!form.company) {
      setErrors({ company_id: ['Choose a company, or “New company…” to add one.'] })
      setError(new Error('Please correct the form: the contact needs a company.'))
      return
    }
    setSaving(true)
    setErrors({})
    setError(null)
    try {
      let companyId = Number(form.company)
      if (form.company === NEW_COMPANY) {
        try {
          const company = await api.createCompany(form.newCompany.trim())
          setCompanies((all) => [...all, company])
          setForm((f) => ({ ...f, company: String(company.id), newCompany: '' }))
          companyId = company.id
        } catch (e) {
          if (e instanceof ApiError && e.fields.name) {
            const problem = e.fields.name.join(' ')
            throw new ApiError(`Please correct the form. Company name: ${problem}`, e.status, {
              newCompany: e.fields.name,
            })
          }
          throw e
        }
      }
      const tagIds = [...form.tags]
      const wanted = form.newTags
        .split(',')
        .map((t) => t.trim())
        .filter(Boolean)
      for (const name of wanted) {
        const existing = tags.find((t) => t.name.toLowerCase() === name.toLowerCase())
        const tag = existing ?? (await api.createTag(name))
        if (!existing) setTags((all) => [...all, tag])
        if (!tagIds.includes(tag.id)) tagIds.push(tag.id)
      }
      setForm((f) => ({ ...f, tags: tagIds, newTags: '' }))
      const input: ContactInput = {
        first_name: form.first_name.trim(),
        last_name: form.last_name.trim(),
        email: form.email.trim(),
        phone: form.phone.trim(),
        title: form.title.trim(),
        status: form.status,
        company_id: companyId,
        tag_ids: tagIds,
      }
      if (id === null) await api.createContact(input)
      else await api.updateContact(id, input)
      navigate('/contacts/')
    } catch (e) {
      if (e instanceof ApiError) setErrors(e.fields)
      setError(e)
      setSaving(false)
    }
  }

  return (
    <>
      <h1>{heading}</h1>
      {error !== null && <ErrorNotice error={error} />}
      <form className="card form" onSubmit={onSubmit} noValidate>
        <div className="form-grid">
          <Field
            name="first_name"
            label="First name"
            required
            value={form.first_name}
            onChange={set('first_name')}
            errors={errors}
          />
          <Field
            name="last_name"
            label="Last name"
            required
            value={form.last_name}
            onChange={set('last_name')}
            errors={errors}
          />
          <Field
            name="email"
            label="Email"
            type="email"
            required
            value={form.email}
            onChange={set('email')}
            errors={errors}
          />
          <Field name="phone" label="Phone" type="tel" value={form.phone} onChange={set('phone')} errors={errors} />
          <Field name="title" label="Job title" value={form.title} onChange={set('title')} errors={errors} />
          <SelectField name="status" label="Status" value={form.status} onChange={set('status')} errors={errors}>
            {CONTACT_STATUSES.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </SelectField>
          <SelectField
            name="company"
            label="Company"
            required
            value={form.company}
            onChange={set('company')}
            errors={errors}
            errorKey="company_id"
          >
            <option value="">Choose a company…</option>
            {companies.map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
            <option value={NEW_COMPANY}>New company…</option>
          </SelectField>
          {form.company === NEW_COMPANY && (
            <Field
              name="newCompany"
              label="Company name"
              required
              value={form.newCompany}
              onChange={set('newCompany')}
              errors={errors}
            />
          )}
        </div>
        <fieldset className="tag-choice">
          <legend>Tags</legend>
          {tags.length === 0 && <p className="muted">No tags yet.</p>}
          {tags.map((tag) => (
            <label key={tag.id} className="checkbox">
              <input type="checkbox" checked={form.tags.includes(tag.id)} onChange={() => toggleTag(tag.id)} />{' '}
              {tag.name}
            </label>
          ))}
          <Field
            name="newTags"
            label="New tags"
            value={form.newTags}
            onChange={set('newTags')}
            errors={errors}
            errorKey="tag_ids"
            hint="Separate tags with commas."
          />
        </fieldset>
        <p className="actions">
          <button type="submit" className="button" disabled={saving}>
            {saving ? 'Saving…' : id === null ? 'Create contact' : 'Save changes'}
          </button>
          <Link className="button secondary" to="/contacts/">
            Cancel
          </Link>
        </p>
      </form>
    </>
  )
}
