// The one way code reads a linked resource: by the name in its shared definition, through
// SST's `Resource`. A link that is absent fails with the resource's name. Kept out of the
// package index (imported as '@meridian/aws/linked') because importing 'sst' freezes the
// links it sees, and the local runtime must set them before anything loads it.
import { Resource } from 'sst'

type Links = Record<string, { name?: string; url?: string; value?: string } | undefined>

function field(resource: string, key: 'name' | 'url' | 'value'): string {
  const value = (Resource as unknown as Links)[resource]?.[key]
  if (!value) throw new Error(`resource ${resource} is not linked to this function (no ${key})`)
  return value
}

/** A linked table's or bucket's name. */
export function linkedName(resource: string): string {
  return field(resource, 'name')
}

/** A linked queue's URL. */
export function linkedUrl(resource: string): string {
  return field(resource, 'url')
}

/** A linked secret's value. */
export function linkedValue(resource: string): string {
  return field(resource, 'value')
}
