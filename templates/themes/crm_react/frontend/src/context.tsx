import { createContext, useContext } from 'react'
import type { Api } from './api'
import type { AppConfig } from './config'

export type AppContextValue = { config: AppConfig; api: Api }

export const AppContext = createContext<AppContextValue | null>(null)

export function useApp(): AppContextValue {
  const value = useContext(AppContext)
  if (!value) throw new Error('useApp() needs an <AppContext.Provider>')
  return value
}
