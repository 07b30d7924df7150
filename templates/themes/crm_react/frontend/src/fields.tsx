// Form fields with a label and the API's error for them.
import type { InputHTMLAttributes, ReactNode, SelectHTMLAttributes } from 'react'

export type FieldErrors = Record<string, string[]>

function FieldError({ id, messages }: { id: string; messages?: string[] }) {
  if (!messages?.length) return null
  return (
    <p className="field-error" id={id}>
      {messages.join(' ')}
    </p>
  )
}

type Common = { name: string; label: string; errors: FieldErrors; errorKey?: string; hint?: ReactNode }

export function Field({
  name,
  label,
  errors,
  errorKey,
  hint,
  ...input
}: Common & InputHTMLAttributes<HTMLInputElement>) {
  const messages = errors[errorKey ?? name]
  const id = `field-${name}`
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {input.required && <span aria-hidden="true"> *</span>}
      </label>
      <input
        id={id}
        name={name}
        aria-invalid={messages ? true : undefined}
        aria-describedby={messages ? `${id}-error` : undefined}
        {...input}
      />
      {hint && <span className="hint">{hint}</span>}
      <FieldError id={`${id}-error`} messages={messages} />
    </div>
  )
}

export function SelectField({
  name,
  label,
  errors,
  errorKey,
  children,
  ...select
}: Common & SelectHTMLAttributes<HTMLSelectElement>) {
  const messages = errors[errorKey ?? name]
  const id = `field-${name}`
  return (
    <div className="field">
      <label htmlFor={id}>
        {label}
        {select.required && <span aria-hidden="true"> *</span>}
      </label>
      <select
        id={id}
        name={name}
        aria-invalid={messages ? true : undefined}
        aria-describedby={messages ? `${id}-error` : undefined}
        {...select}
      >
        {children}
      </select>
      <FieldError id={`${id}-error`} messages={messages} />
    </div>
  )
}
