// One deal: value, stage (changeable here too), expected close date, contact,
// company, tags and notes, with a form to add a note.
import { useEffect, useState, type ChangeEvent, type FormEvent } from 'react'
import { errorMessage, type Deal, type Stage } from './api'
import { useApp } from './context'
import { date, dateTime, money } from './format'
import { ErrorNotice, Loading } from './notices'
import { Link } from './router'

type Load = { status: 'loading' } | { status: 'error'; error: unknown } | { status: 'ready' }

export default function DealDetail({ id }: { id: number }) {
  const { api } = useApp()
  const [load, setLoad] = useState<Load>({ status: 'loading' })
  const [deal, setDeal] = useState<Deal | null>(null)
  const [stages, setStages] = useState<Stage[]>([])
  const [note, setNote] = useState('')
  const [noteError, setNoteError] = useState<unknown>(null)
  const [adding, setAdding] = useState(false)
  const [stageError, setStageError] = useState<string | null>(null)

  useEffect(() => {
    let live = true
    Promise.all([api.deal(id), api.stages()])
      .then(([deal, stages]) => {
        if (!live) return
        setDeal(deal)
        setStages([...stages].sort((a, b) => a.order - b.order))
        setLoad({ status: 'ready' })
      })
      .catch((error: unknown) => live && setLoad({ status: 'error', error }))
    return () => {
      live = false
    }
  }, [api, id])

  if (load.status === 'loading') return <Loading label="Loading the deal…" />
  if (load.status === 'error' || !deal) {
    return (
      <>
        <h1>Deal</h1>
        <ErrorNotice error={load.status === 'error' ? load.error : new Error('No deal.')} />
        <p>
          <Link to="/">Back to the pipeline</Link>
        </p>
      </>
    )
  }

  const onStage = async (event: ChangeEvent<HTMLSelectElement>) => {
    const to = stages.find((s) => s.id === Number(event.target.value))
    const from = deal.stage
    if (!to) return
    setDeal({ ...deal, stage: to })
    setStageError(null)
    try {
      const saved = await api.moveDeal(deal.id, to.id)
      setDeal((d) => (d ? { ...d, stage: saved.stage } : d))
    } catch (error) {
      setDeal((d) => (d ? { ...d, stage: from } : d))
      setStageError(`Could not move the deal to ${to.name}: ${errorMessage(error)} It stays in ${from.name}.`)
    }
  }

  const onAddNote = async (event: FormEvent) => {
    event.preventDefault()
    const text = note.trim()
    if (!text) {
      setNoteError(new Error('Write the note first.'))
      return
    }
    setAdding(true)
    setNoteError(null)
    try {
      const added = await api.addDealNote(deal.id, text)
      setDeal((d) => (d ? { ...d, notes: [added, ...d.notes] } : d))
      setNote('')
    } catch (error) {
      setNoteError(error)
    } finally {
      setAdding(false)
    }
  }

  const contact = deal.contact
  return (
    <>
      <p className="breadcrumb">
        <Link to="/">Pipeline</Link> › {deal.stage.name}
      </p>
      <div className="page-head">
        <h1>{deal.title}</h1>
        <p className="deal-value">{money(deal.amount)}</p>
      </div>
      {stageError && <ErrorNotice error={new Error(stageError)} onDismiss={() => setStageError(null)} />}
      <div className="detail-grid">
        <section className="card" aria-labelledby="deal-facts">
          <h2 id="deal-facts">Deal</h2>
          <dl className="facts">
            <dt>Value</dt>
            <dd>{money(deal.amount)}</dd>
            <dt>
              <label htmlFor="deal-stage">Stage</label>
            </dt>
            <dd>
              <select id="deal-stage" value={deal.stage.id} onChange={onStage}>
                {stages.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.name}
                  </option>
                ))}
              </select>
            </dd>
            <dt>Expected close date</dt>
            <dd>{date(deal.expected_close_date)}</dd>
            <dt>Probability</dt>
            <dd>{deal.probability}%</dd>
            <dt>Contact</dt>
            <dd>
              <Link to={`/contacts/${contact.id}/`}>{contact.full_name}</Link>
              {contact.email && (
                <>
                  {' · '}
                  <a href={`mailto:${contact.email}`}>{contact.email}</a>
                </>
              )}
            </dd>
            <dt>Company</dt>
            <dd>{contact.company_name}</dd>
            {deal.tags.length > 0 && (
              <>
                <dt>Tags</dt>
                <dd>
                  <ul className="tags">
                    {deal.tags.map((t) => (
                      <li key={t.id} className="tag">
                        {t.name}
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            )}
          </dl>
        </section>
        <section className="card" aria-labelledby="deal-notes">
          <h2 id="deal-notes">Notes</h2>
          <form className="note-form" onSubmit={onAddNote}>
            <label htmlFor="note-text">Add a note</label>
            <textarea id="note-text" rows={3} value={note} onChange={(e) => setNote(e.target.value)} />
            {noteError !== null && <ErrorNotice error={noteError} />}
            <p className="actions">
              <button type="submit" className="button" disabled={adding}>
                {adding ? 'Adding…' : 'Add note'}
              </button>
            </p>
          </form>
          {deal.notes.length === 0 ? (
            <p className="muted">No notes yet.</p>
          ) : (
            <ol className="notes" aria-label="Notes, newest first">
              {deal.notes.map((n) => (
                <li key={n.id}>
                  <p className="note-text">{n.text}</p>
                  <p className="muted">
                    {n.created_by_name || 'Someone'} · <time dateTime={n.created_at}>{dateTime(n.created_at)}</time>
                  </p>
                </li>
              ))}
            </ol>
          )}
        </section>
      </div>
    </>
  )
}
