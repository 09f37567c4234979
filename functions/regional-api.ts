// Lambda entry of a regional API (infra/api.ts: one per non-home store region, each on its
// own function URL in response streaming mode). Its mode comes from the validated settings:
// MERIDIAN_SERVED_REGION (the store region it serves) and MERIDIAN_HOME_API_URL (where
// everything else goes), both set by infra.
import { SettingsError, settings } from '@meridian/aws'
import { streamHandle } from 'hono/aws-lambda'
import { createRegionalApiApp } from './regional-api-app'

function required(name: 'MERIDIAN_SERVED_REGION' | 'MERIDIAN_HOME_API_URL'): string {
  const value = settings()[name]
  if (!value) throw new SettingsError(name, undefined, 'a value: a regional API needs it')
  return value
}

export const handler = streamHandle(
  createRegionalApiApp({
    servedRegion: required('MERIDIAN_SERVED_REGION'),
    homeApiUrl: required('MERIDIAN_HOME_API_URL'),
  }),
)
