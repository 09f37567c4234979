// Recording stand-ins for the globals sst.config.ts and infra/ use ($config, $app,
// sst.aws.*, sst.Secret, aws.Provider), written from SST v3's documented component APIs.
// Each constructor records its name, args and options; outputs (`.name`, `.url`, `.arn`)
// are placeholders that name the component, so a test can follow links and references.
export interface RecordedComponent {
  type: string
  name: string
  args: Record<string, unknown>
  options?: Record<string, unknown>
  /** Method calls such as queue.subscribe(...) or bucket.notify(...). */
  calls: Array<{ method: string; args: unknown[] }>
  instance: StandInComponent
}

export class OutputPlaceholder {
  constructor(
    readonly component: string,
    readonly property: string,
  ) {}
  toString() {
    return `<${this.component}.${this.property}>`
  }
}

export class StandInComponent {
  readonly record: RecordedComponent
  constructor(
    registry: RecordedComponent[],
    type: string,
    name: string,
    args: Record<string, unknown> = {},
    options?: Record<string, unknown>,
  ) {
    if (registry.some((existing) => existing.name === name && existing.type === type)) {
      throw new Error(`duplicate ${type} name ${name}: Pulumi URNs must be unique`)
    }
    this.record = { type, name, args, options, calls: [], instance: this }
    registry.push(this.record)
  }
  protected output(property: string) {
    return new OutputPlaceholder(this.record.name, property)
  }
  get name() {
    return this.output('name')
  }
  get arn() {
    return this.output('arn')
  }
  get url() {
    return this.output('url')
  }
}

export interface StandIns {
  components: RecordedComponent[]
  ofType(type: string): RecordedComponent[]
  byName(name: string): RecordedComponent | undefined
}

/** Installs the globals; call before importing sst.config.ts or infra/*. */
export function installSstStandIns(stage: string): StandIns {
  const components: RecordedComponent[] = []
  const define = (type: string, methods: string[] = []) => {
    const Component = class extends StandInComponent {
      constructor(name: string, args?: Record<string, unknown>, options?: Record<string, unknown>) {
        super(components, type, name, args, options)
      }
    }
    for (const method of methods) {
      Object.defineProperty(Component.prototype, method, {
        value(this: StandInComponent, ...args: unknown[]) {
          this.record.calls.push({ method, args })
          return this
        },
      })
    }
    return Component
  }
  const globals = globalThis as Record<string, unknown>
  globals.$config = (config: unknown) => config
  globals.$app = { name: 'meridian', stage }
  globals.$interpolate = (strings: TemplateStringsArray, ...values: unknown[]) =>
    strings.reduce(
      (text, part, index) => text + part + (index < values.length ? String(values[index]) : ''),
      '',
    )
  globals.sst = {
    Secret: define('sst.Secret'),
    Linkable: define('sst.Linkable'),
    aws: {
      Dynamo: define('sst.aws.Dynamo', ['subscribe']),
      Queue: define('sst.aws.Queue', ['subscribe']),
      Bucket: define('sst.aws.Bucket', ['notify', 'subscribe']),
      Function: define('sst.aws.Function', ['addEnvironment']),
      Cron: define('sst.aws.Cron'),
    },
  }
  globals.aws = { Provider: define('aws.Provider') }
  return {
    components,
    ofType: (type) => components.filter((component) => component.type === type),
    byName: (name) => components.find((component) => component.name === name),
  }
}
