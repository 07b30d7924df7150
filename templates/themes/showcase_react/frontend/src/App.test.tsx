import { cleanup, fireEvent, render, screen } from '@testing-library/react'
import { afterEach, describe, expect, it, vi } from 'vitest'
import App from './App'

afterEach(() => {
  cleanup()
  vi.unstubAllGlobals()
})

describe('App', () => {
  it('shows the message from the Django API', async () => {
    const fetchMock = vi.fn(
      async () =>
        new Response(JSON.stringify({ message: 'Hello from Django!', project: 'demo' }), {
          headers: { 'Content-Type': 'application/json' },
        }),
    )
    vi.stubGlobal('fetch', fetchMock)

    render(<App />)

    expect((await screen.findByTestId('api-message')).textContent).toBe('Hello from Django!')
    expect(screen.getByRole('heading', { level: 1 }).textContent).toBe('Welcome to demo')
    expect(fetchMock).toHaveBeenCalledWith('/api/hello/', expect.anything())
  })

  it('reports API errors', async () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(async () => new Response('nope', { status: 500 })),
    )

    render(<App />)

    expect((await screen.findByRole('alert')).textContent).toContain('HTTP 500')
  })

  it('counts clicks', () => {
    vi.stubGlobal(
      'fetch',
      vi.fn(() => new Promise<Response>(() => {})),
    )

    render(<App />)
    fireEvent.click(screen.getByRole('button', { name: 'Click me' }))

    expect(screen.getByText('Clicked 1 time.')).toBeTruthy()
  })
})
