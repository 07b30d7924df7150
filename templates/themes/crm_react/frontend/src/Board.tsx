// The pipeline: one column per stage (from the API), the deals in it and their
// total. A deal moves to another stage by drag and drop, or with the keyboard:
// its move button picks it up (Space or Enter), the arrow keys choose a stage,
// Space or Enter drops it there and Escape cancels. The board shows a move at
// once and undoes it, with an error that says why, when the API refuses it.
import { useCallback, useEffect, useRef, useState, type DragEvent, type KeyboardEvent } from 'react'
import { errorMessage, type DealSummary, type Stage } from './api'
import { useApp } from './context'
import { date, money, total } from './format'
import { ErrorNotice, Loading } from './notices'
import { Link } from './router'

type Load = { status: 'loading' } | { status: 'error'; error: unknown } | { status: 'ready' }

/** A deal picked up with the keyboard, and the stage it would be dropped in. */
type Lifted = { dealId: number; target: number }

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`

export default function Board() {
  const { api } = useApp()
  const [load, setLoad] = useState<Load>({ status: 'loading' })
  const [stages, setStages] = useState<Stage[]>([])
  const [deals, setDeals] = useState<DealSummary[]>([])
  const [moveError, setMoveError] = useState<string | null>(null)
  const [saving, setSaving] = useState<ReadonlySet<number>>(new Set())
  const [dragged, setDragged] = useState<number | null>(null)
  const [dropTarget, setDropTarget] = useState<number | null>(null)
  const [lifted, setLifted] = useState<Lifted | null>(null)
  const [announcement, setAnnouncement] = useState('')
  const handles = useRef(new Map<number, HTMLButtonElement>())
  const [refocus, setRefocus] = useState<number | null>(null)

  useEffect(() => {
    let live = true
    Promise.all([api.stages(), api.deals()])
      .then(([stages, deals]) => {
        if (!live) return
        setStages([...stages].sort((a, b) => a.order - b.order || a.name.localeCompare(b.name)))
        setDeals(deals)
        setLoad({ status: 'ready' })
      })
      .catch((error: unknown) => live && setLoad({ status: 'error', error }))
    return () => {
      live = false
    }
  }, [api])

  // A moved card is drawn anew in its new column: give it back the focus.
  useEffect(() => {
    if (refocus !== null) {
      handles.current.get(refocus)?.focus()
      setRefocus(null)
    }
  }, [refocus, deals])

  const move = useCallback(
    async (deal: DealSummary, to: Stage) => {
      const from = stages.find((s) => s.id === deal.stage)
      if (deal.stage === to.id || !from) return
      const place = (stage: Stage) => (d: DealSummary) =>
        d.id === deal.id ? { ...d, stage: stage.id, stage_name: stage.name } : d
      setDeals((all) => all.map(place(to)))
      setMoveError(null)
      setSaving((s) => new Set(s).add(deal.id))
      setAnnouncement(`${deal.title} moved to ${to.name}. Saving…`)
      try {
        const saved = await api.moveDeal(deal.id, to.id)
        const stage = stages.find((s) => s.id === saved.stage.id) ?? to
        setDeals((all) => all.map(place(stage)))
        setAnnouncement(`${deal.title} moved to ${stage.name}.`)
      } catch (error) {
        // Undo, unless the deal has been moved again in the meantime.
        setDeals((all) => all.map((d) => (d.id === deal.id && d.stage === to.id ? place(from)(d) : d)))
        const message = `Could not move “${deal.title}” to ${to.name}: ${errorMessage(error)} It is back in ${from.name}.`
        setMoveError(message)
        setAnnouncement(message)
      } finally {
        setSaving((s) => {
          const next = new Set(s)
          next.delete(deal.id)
          return next
        })
      }
    },
    [api, stages],
  )

  if (load.status === 'loading') return <Loading label="Loading the pipeline…" />
  if (load.status === 'error') {
    return (
      <>
        <h1>Pipeline</h1>
        <ErrorNotice error={load.error} />
      </>
    )
  }

  const stageIndex = (id: number) => stages.findIndex((s) => s.id === id)

  const onDragStart = (event: DragEvent, deal: DealSummary) => {
    event.dataTransfer?.setData('text/plain', String(deal.id))
    if (event.dataTransfer) event.dataTransfer.effectAllowed = 'move'
    setDragged(deal.id)
    setLifted(null)
  }
  const onDragOver = (event: DragEvent, stage: Stage) => {
    if (dragged === null) return
    event.preventDefault()
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'move'
    setDropTarget(stage.id)
  }
  const onDrop = (event: DragEvent, stage: Stage) => {
    event.preventDefault()
    const id = dragged ?? Number(event.dataTransfer?.getData('text/plain'))
    setDragged(null)
    setDropTarget(null)
    const deal = deals.find((d) => d.id === id)
    if (deal) void move(deal, stage)
  }
  const endDrag = () => {
    setDragged(null)
    setDropTarget(null)
  }

  // Keyboard moves. Activating the move button (click, Enter or Space) picks the
  // deal up or drops it, so screen readers that click buttons can use it too.
  const onHandleClick = (deal: DealSummary) => {
    if (lifted?.dealId !== deal.id) {
      const here = stageIndex(deal.stage)
      setLifted({ dealId: deal.id, target: here })
      setAnnouncement(
        `Picked up ${deal.title} in ${stages[here]?.name}. Choose a stage with the left and right arrow keys, ` +
          'then press Space or Enter to drop it, or Escape to cancel.',
      )
      return
    }
    const target = stages[lifted.target]
    setLifted(null)
    if (!target || target.id === deal.stage) {
      setAnnouncement(`${deal.title} stays in ${deal.stage_name}.`)
      return
    }
    setRefocus(deal.id)
    void move(deal, target)
  }
  const onHandleKeyDown = (event: KeyboardEvent, deal: DealSummary) => {
    if (lifted?.dealId !== deal.id) return
    const step = { ArrowRight: 1, ArrowDown: 1, ArrowLeft: -1, ArrowUp: -1 }[event.key]
    if (step) {
      event.preventDefault()
      const target = Math.min(stages.length - 1, Math.max(0, lifted.target + step))
      setLifted({ dealId: deal.id, target })
      setAnnouncement(`${deal.title}: over ${stages[target].name}.`)
    } else if (event.key === 'Escape' || event.key === 'Tab') {
      if (event.key === 'Escape') event.preventDefault()
      setLifted(null)
      setAnnouncement(`Move cancelled. ${deal.title} stays in ${deal.stage_name}.`)
    }
  }

  const highlighted = lifted ? stages[lifted.target]?.id : dropTarget

  return (
    <>
      <div className="page-head">
        <h1>Pipeline</h1>
        <p className="summary">
          {plural(deals.length, 'deal', 'deals')} · {money(total(deals.map((d) => d.amount)))}
        </p>
        <p className="actions">
          <Link className="button" to="/deals/new/">
            New deal
          </Link>
        </p>
      </div>
      {moveError && <ErrorNotice error={new Error(moveError)} onDismiss={() => setMoveError(null)} />}
      {stages.length === 0 ? (
        <div className="card empty">
          <h2>No pipeline stages</h2>
          <p>Deals move through stages. Add stages in the admin (QuickScale CRM › Stages).</p>
        </div>
      ) : (
        <>
          {deals.length === 0 && (
            <p className="empty">
              No deals yet. <Link to="/deals/new/">Add the first deal</Link> to start the pipeline.
            </p>
          )}
          <p id="board-help" className="visually-hidden">
            Drag a deal to another stage, or press its move button, choose a stage with the arrow keys and press Space
            or Enter to drop it there.
          </p>
          <div className="board">
            {stages.map((stage) => {
              const inStage = deals.filter((d) => d.stage === stage.id)
              return (
                <section
                  key={stage.id}
                  className={`column${highlighted === stage.id ? ' drop-target' : ''}`}
                  aria-labelledby={`stage-${stage.id}`}
                  data-stage={stage.name}
                  onDragOver={(e) => onDragOver(e, stage)}
                  onDrop={(e) => onDrop(e, stage)}
                >
                  <header className="column-head">
                    <h2 id={`stage-${stage.id}`}>{stage.name}</h2>
                    <p className="column-total" data-testid={`total-${stage.id}`}>
                      {plural(inStage.length, 'deal', 'deals')} · {money(total(inStage.map((d) => d.amount)))}
                    </p>
                  </header>
                  {inStage.length === 0 ? (
                    <p className="column-empty">No deals</p>
                  ) : (
                    <ul className="cards">
                      {inStage.map((deal) => (
                        <li
                          key={deal.id}
                          className={[
                            'deal-card',
                            lifted?.dealId === deal.id ? 'lifted' : '',
                            dragged === deal.id ? 'dragging' : '',
                            saving.has(deal.id) ? 'saving' : '',
                          ]
                            .filter(Boolean)
                            .join(' ')}
                          draggable
                          onDragStart={(e) => onDragStart(e, deal)}
                          onDragEnd={endDrag}
                          data-deal={deal.id}
                        >
                          <div className="deal-card-top">
                            <Link className="deal-title" to={`/deals/${deal.id}/`}>
                              {deal.title}
                            </Link>
                            <button
                              type="button"
                              className="move-handle"
                              aria-label={`Move ${deal.title}`}
                              aria-describedby="board-help"
                              aria-pressed={lifted?.dealId === deal.id}
                              ref={(el) => {
                                if (el) handles.current.set(deal.id, el)
                                else handles.current.delete(deal.id)
                              }}
                              onClick={() => onHandleClick(deal)}
                              onKeyDown={(e) => onHandleKeyDown(e, deal)}
                              onBlur={() => lifted?.dealId === deal.id && refocus === null && setLifted(null)}
                            >
                              <span aria-hidden="true">⠿</span>
                            </button>
                          </div>
                          <p className="deal-amount">{money(deal.amount)}</p>
                          <p className="deal-meta">
                            {deal.contact_name}
                            {deal.company_name && ` · ${deal.company_name}`}
                          </p>
                          {deal.expected_close_date && (
                            <p className="deal-meta">Closes {date(deal.expected_close_date)}</p>
                          )}
                        </li>
                      ))}
                    </ul>
                  )}
                </section>
              )
            })}
          </div>
        </>
      )}
      <p className="visually-hidden" aria-live="assertive" aria-atomic="true">
        {announcement}
      </p>
    </>
  )
}
