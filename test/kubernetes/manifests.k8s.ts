// The Kubernetes manifests (deploy/kubernetes) checked without a cluster: `npm run test:kubernetes`.
// Named *.k8s.ts so that `npm test` never picks it up: it needs kubectl with kustomize at
// /usr/bin/kubectl.
//
// Renders every overlay with `kubectl kustomize`, validates every object against the Kubernetes
// schemas (kubernetes-models; they check types, required fields and formats, not unknown fields,
// so the settings that matter are asserted one by one below), and checks that the manifests agree
// with compose.yaml, the services' config schemas, scripts/services.mjs and the nginx templates:
// ports, environment, probes, images, hardening, graceful stop, network policies, and what each
// overlay promises (dev: PostgreSQL in the cluster with Compose's init script and passwords, demo
// credentials as in Compose; production: autoscaled replicas, an external database, no development
// or demo credentials, the administrators' bootstrap password from a Secret).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { BlockList, isIP } from 'node:net'
import { join } from 'node:path'
import { type BaseConfig, loadConfig, type ServiceDefinition } from '@cinema/kit'
import type { FastifyInstance } from 'fastify'
import type { IDeployment, IStatefulSet } from 'kubernetes-models/apps/v1'
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import type {
  IIngress,
  INetworkPolicy,
  INetworkPolicyPeer,
  INetworkPolicyPort,
} from 'kubernetes-models/networking.k8s.io/v1'
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1'
import type { IContainer, IPodSpec, IService } from 'kubernetes-models/v1'
import t, { type Test } from 'tap'
import type { TObject } from 'typebox'
import { parse, parseAllDocuments } from 'yaml'
import { bookingsService } from '../../bookings/src/app.js'
import { gatewayService } from '../../gateway/src/app.js'
import { moviesService } from '../../movies/src/app.js'
import { ROOT, systemServices } from '../../scripts/services.mjs'
import { showtimesService } from '../../showtimes/src/app.js'
import { usersService } from '../../users/src/app.js'
import { DEMO_PASSWORD } from '../helpers/auth.js'
import { build } from '../helpers/servers.js'

const KUBECTL = '/usr/bin/kubectl'
const OVERLAYS = ['dev', 'production'] as const
type Overlay = (typeof OVERLAYS)[number]
const NAMESPACE = 'cinema'
const NAME_LABEL = 'app.kubernetes.io/name'
const HEADLESS = new Set(['users', 'movies', 'showtimes', 'bookings'])
const DATABASE_OWNERS = ['users', 'bookings'] as const
// The services that check tokens: they must agree on who issues them, for whom, and on PRIVATE_READS.
const TOKEN_CHECKERS = ['users', 'bookings', 'gateway'] as const
const TOKEN_SETTINGS = ['TOKEN_ISSUER', 'TOKEN_AUDIENCE', 'PRIVATE_READS'] as const

/** Each Node.js service's config schema, and the service built from settings (in-memory database). */
interface NodeApp {
  schema: TObject
  build: (t: Test, env: NodeJS.ProcessEnv) => Promise<FastifyInstance>
}
const nodeAppOf = <Config extends BaseConfig>(definition: ServiceDefinition<Config>): NodeApp => ({
  schema: definition.configSchema,
  build: (t, env) => build(t, definition, env),
})
const NODE_APPS: Record<string, NodeApp> = {
  users: nodeAppOf(usersService),
  movies: nodeAppOf(moviesService),
  showtimes: nodeAppOf(showtimesService),
  bookings: nodeAppOf(bookingsService),
  gateway: nodeAppOf(gatewayService),
}
const APPS = [...Object.keys(NODE_APPS), 'ui']

const read = (path: string) => readFileSync(join(ROOT, path), 'utf8')
const version = (app: string) => (JSON.parse(read(`${app}/package.json`)) as { version: string }).version

// --- compose.yaml, with each `${X:-default}` read as its default ------------------------------

interface ComposeService {
  image?: string
  environment?: Record<string, string | number>
  ports?: string[]
  mem_limit?: string
  healthcheck?: { test: string[] }
}
const compose = parse(read('compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> }
const withDefaults = (value: string | number) =>
  String(value).replace(/\$\{[A-Z0-9_]+(?::?-([^}]*))?\}/g, (_match, fallback: string | undefined) => fallback ?? '')
const composeService = (name: string): ComposeService => {
  const service = compose.services[name]
  if (!service) throw new Error(`compose.yaml has no service ${name}`)
  return service
}
const composeEnvironment = (name: string) =>
  new Map(Object.entries(composeService(name).environment ?? {}).map(([key, value]) => [key, withDefaults(value)]))
/** The published port and the container's port of `host:published:container`. */
const composePorts = (name: string) => {
  const [published, container] = (composeService(name).ports?.[0] ?? '').split(':').slice(-2).map(Number)
  return { published, container }
}
/** Docker's "256m" is 256 MiB. */
const composeMemory = (name: string) => composeService(name).mem_limit?.replace(/^(\d+)m$/, '$1Mi')

// The peers each part calls, as `npm start` wires them (PEERS in scripts/services.mjs).
const PEERS = new Map(
  systemServices().map((service) => [
    service.name,
    Object.keys(service.env)
      .filter((key) => key.endsWith('_URL'))
      .map((key) => key.replace(/_URL$/, '').toLowerCase()),
  ]),
)

// --- the UI's nginx templates -----------------------------------------------------------------

const UI_TEMPLATES = ['ui/nginx/default.conf.template', 'docker/ui/healthz.conf.template'].map(read)
const UI_VARIABLES = new Set(UI_TEMPLATES.flatMap((text) => [...text.matchAll(/\$\{([A-Z0-9_]+)\}/g)].map((m) => m[1])))
const UI_LISTEN = Number(/^\s*listen\s+(\d+)\s*;/m.exec(UI_TEMPLATES[0] ?? '')?.[1])

// --- rendering and the objects of one render --------------------------------------------------

interface KubeObject {
  apiVersion: string
  kind: string
  metadata: { name: string; namespace?: string; labels?: Record<string, string> }
  data?: Record<string, string>
}

function renderOverlay(overlay: Overlay): KubeObject[] {
  const run = spawnSync(KUBECTL, ['kustomize', join(ROOT, 'deploy/kubernetes/overlays', overlay)], {
    encoding: 'utf8',
  })
  if (run.error || run.status !== 0) throw new Error(`kubectl kustomize ${overlay}: ${run.stderr || run.error}`)
  return parseAllDocuments(run.stdout).map((document) => document.toJS() as KubeObject)
}

class Render {
  constructor(readonly objects: KubeObject[]) {}

  all<T>(kind: string): (T & KubeObject)[] {
    return this.objects.filter((object) => object.kind === kind) as (T & KubeObject)[]
  }

  find<T>(kind: string, name: string): (T & KubeObject) | undefined {
    return this.all<T>(kind).find((object) => object.metadata.name === name)
  }

  get<T>(kind: string, name: string): T & KubeObject {
    const object = this.find<T>(kind, name)
    if (!object) throw new Error(`no ${kind} ${name}`)
    return object
  }

  podSpec(app: string): IPodSpec {
    const spec = this.get<IDeployment>('Deployment', app).spec?.template.spec
    if (!spec) throw new Error(`Deployment ${app} has no pod spec`)
    return spec
  }

  container(app: string): IContainer {
    const container = this.podSpec(app).containers.find(({ name }) => name === 'server')
    if (!container) throw new Error(`Deployment ${app} has no container "server"`)
    return container
  }

  /** A ConfigMap's or Secret's data as text. */
  data(kind: 'ConfigMap' | 'Secret', name: string): Map<string, string> {
    const object = this.get(kind, name)
    return new Map(
      Object.entries(object.data ?? {}).map(([key, value]) => [
        key,
        kind === 'Secret' ? Buffer.from(value, 'base64').toString('utf8') : value,
      ]),
    )
  }

  /** Every variable a container gets, from `env` and from the ConfigMaps and Secrets of `envFrom`. */
  environment(container: IContainer): Map<string, string> {
    const environment = new Map<string, string>()
    for (const source of container.envFrom ?? []) {
      const [kind, name] = source.configMapRef
        ? (['ConfigMap', source.configMapRef.name] as const)
        : (['Secret', source.secretRef?.name] as const)
      if (!name) throw new Error(`${container.name}: envFrom without a name`)
      for (const [key, value] of this.data(kind, name)) environment.set(key, value)
    }
    for (const variable of container.env ?? []) {
      if (variable.valueFrom) throw new Error(`${variable.name}: valueFrom is not read by this test`)
      environment.set(variable.name, variable.value ?? '')
    }
    return environment
  }

  /** Where a container's variable comes from: the kind of the last `envFrom` source that has it, or `env`. */
  sourceOf(container: IContainer, variable: string): 'ConfigMap' | 'Secret' | 'env' | undefined {
    if (container.env?.some(({ name }) => name === variable)) return 'env'
    let source: 'ConfigMap' | 'Secret' | undefined
    for (const from of container.envFrom ?? []) {
      const [kind, name] = from.configMapRef
        ? (['ConfigMap', from.configMapRef.name] as const)
        : (['Secret', from.secretRef?.name] as const)
      if (name && this.data(kind, name).has(variable)) source = kind
    }
    return source
  }
}

// --- schema validation ------------------------------------------------------------------------

/** kubernetes-models' class for the object's apiVersion and kind, or why there is none. */
async function schemaProblem(object: KubeObject): Promise<string | undefined> {
  const models = (await import(`kubernetes-models/${object.apiVersion}`)) as Record<
    string,
    new (
      data: unknown,
    ) => { validate(): void }
  >
  const Model = models[object.kind]
  if (!Model) return `no schema for ${object.apiVersion} ${object.kind}`
  // kustomize breaks long base64 values into lines, which the API server's decoder skips and the
  // schema's "byte" format does not.
  const data =
    object.kind === 'Secret' && object.data
      ? { data: Object.fromEntries(Object.entries(object.data).map(([key, value]) => [key, value.replace(/\n/g, '')])) }
      : {}
  try {
    new Model({ ...object, ...data }).validate()
    return undefined
  } catch (error) {
    return error instanceof Error ? error.message : String(error)
  }
}

// --- network policies, evaluated as the API defines them --------------------------------------

interface LabelSelector {
  matchLabels?: Record<string, string>
  matchExpressions?: { key: string; operator: string; values?: string[] }[]
}

function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const equal = Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value)
  return (
    equal &&
    (selector.matchExpressions ?? []).every(({ key, operator, values = [] }) => {
      if (operator === 'In') return values.includes(labels[key] ?? '\0')
      if (operator === 'NotIn') return !values.includes(labels[key] ?? '\0')
      if (operator === 'Exists') return key in labels
      if (operator === 'DoesNotExist') return !(key in labels)
      throw new Error(`unknown selector operator ${operator}`)
    })
  )
}

/** One end of a connection: a pod (with its namespace's labels), or an address outside the cluster. */
interface Endpoint {
  name: string
  pod?: { namespace: string; namespaceLabels: Record<string, string>; labels: Record<string, string> }
  ip?: string
  /** The named ports of a destination pod. */
  ports?: Map<string, number>
}
interface Connection {
  port: number
  protocol: 'TCP' | 'UDP'
}

function peerMatches(peer: INetworkPolicyPeer, other: Endpoint): boolean {
  if (peer.ipBlock) {
    if (!other.ip) return false
    const [network = '', prefix = ''] = peer.ipBlock.cidr.split('/')
    const range = new BlockList()
    range.addSubnet(network, Number(prefix))
    return range.check(other.ip) && !(peer.ipBlock.except ?? []).some((cidr) => cidr === `${other.ip}/32`)
  }
  if (!other.pod) return false
  const namespaceOk = peer.namespaceSelector
    ? selects(peer.namespaceSelector, other.pod.namespaceLabels)
    : other.pod.namespace === NAMESPACE
  return namespaceOk && (!peer.podSelector || selects(peer.podSelector, other.pod.labels))
}

/** `ports` of a rule; a named port is the destination pod's. */
function portMatches(ports: INetworkPolicyPort[] | undefined, connection: Connection, destination: Endpoint): boolean {
  if (!ports?.length) return true
  return ports.some(({ port, protocol = 'TCP' }) => {
    if (protocol !== connection.protocol) return false
    if (port === undefined) return true
    return typeof port === 'number' ? port === connection.port : destination.ports?.get(port) === connection.port
  })
}

function allowed(render: Render, source: Endpoint, destination: Endpoint, connection: Connection): boolean {
  const policies = render.all<INetworkPolicy>('NetworkPolicy')
  const selecting = (endpoint: Endpoint, type: 'Ingress' | 'Egress') =>
    endpoint.pod?.namespace === NAMESPACE
      ? policies.filter(
          ({ spec }) =>
            spec &&
            selects(spec.podSelector, endpoint.pod?.labels ?? {}) &&
            (spec.policyTypes ?? ['Ingress']).includes(type),
        )
      : undefined
  const egress = selecting(source, 'Egress')
  const egressOk =
    !egress ||
    egress.some(({ spec }) =>
      (spec?.egress ?? []).some(
        (rule) =>
          (!rule.to?.length || rule.to.some((peer) => peerMatches(peer, destination))) &&
          portMatches(rule.ports, connection, destination),
      ),
    )
  const ingress = selecting(destination, 'Ingress')
  const ingressOk =
    !ingress ||
    ingress.some(({ spec }) =>
      (spec?.ingress ?? []).some(
        (rule) =>
          (!rule.from?.length || rule.from.some((peer) => peerMatches(peer, source))) &&
          portMatches(rule.ports, connection, destination),
      ),
    )
  return egressOk && ingressOk
}

const namespaceLabels = (namespace: string) => ({ 'kubernetes.io/metadata.name': namespace })

/** The pods of a Deployment or StatefulSet as network endpoints. */
function workloadEndpoint(render: Render, kind: 'Deployment' | 'StatefulSet', name: string): Endpoint {
  const template = render.get<IDeployment | IStatefulSet>(kind, name).spec?.template
  return {
    name,
    pod: {
      namespace: NAMESPACE,
      namespaceLabels: namespaceLabels(NAMESPACE),
      labels: template?.metadata?.labels ?? {},
    },
    ports: new Map(
      (template?.spec?.containers ?? []).flatMap(({ ports = [] }) =>
        ports.flatMap(({ name: portName, containerPort }) => (portName ? [[portName, containerPort] as const] : [])),
      ),
    ),
  }
}

const containerPort = (render: Render, kind: 'Deployment' | 'StatefulSet', name: string) => {
  const ports = render.get<IDeployment | IStatefulSet>(kind, name).spec?.template.spec?.containers[0]?.ports
  const port = ports?.[0]?.containerPort
  if (port === undefined) throw new Error(`${kind} ${name} has no container port`)
  return port
}

/** The seconds of the preStop pause: `sleep N` in its command. */
const preStopSleep = (container: IContainer) =>
  Number(/\bsleep (\d+)/.exec((container.lifecycle?.preStop?.exec?.command ?? []).join(' '))?.[1])

// --- the checks -------------------------------------------------------------------------------

if (!existsSync(KUBECTL)) {
  t.fail(`${KUBECTL} is missing: kubectl (with its kustomize) is needed to render deploy/kubernetes`)
} else {
  for (const overlay of OVERLAYS) {
    t.test(`overlay ${overlay}`, async (t) => {
      const render = new Render(renderOverlay(overlay))
      t.ok(render.objects.length > 0, 'renders')
      t.comment(`${overlay}: ${render.objects.length} objects`)

      t.test('every object is valid against its Kubernetes schema', async (t) => {
        for (const object of render.objects) {
          t.equal(await schemaProblem(object), undefined, `${object.kind} ${object.metadata.name}`)
        }
      })

      t.test('everything is in one namespace, which enforces the restricted Pod Security Standard', async (t) => {
        const namespace = render.get('Namespace', NAMESPACE)
        t.equal(namespace.metadata.labels?.['pod-security.kubernetes.io/enforce'], 'restricted')
        for (const object of render.objects.filter(({ kind }) => kind !== 'Namespace')) {
          t.equal(object.metadata.namespace, NAMESPACE, `${object.kind} ${object.metadata.name}`)
        }
      })

      t.test('images: the names of compose.yaml, the package.json version as tag, never latest', async (t) => {
        const workloads = [...render.all<IDeployment>('Deployment'), ...render.all<IStatefulSet>('StatefulSet')]
        for (const workload of workloads) {
          for (const { image = '' } of workload.spec?.template.spec?.containers ?? []) {
            const [name, tag] = image.split(':')
            t.ok(tag && tag !== 'latest', `${image}: a version tag`)
            const app = workload.metadata.name
            if (APPS.includes(app)) {
              t.equal(name, composeService(app).image, `${app}: compose.yaml's image`)
              t.equal(tag, version(app), `${app}: ${app}/package.json's version`)
            } else {
              t.equal(image, composeService(app).image, `${app}: compose.yaml's image`)
            }
          }
        }
      })

      for (const app of APPS) {
        t.test(`${app}: ports, Service, environment, probes`, async (t) => {
          const container = render.container(app)
          const port = containerPort(render, 'Deployment', app)
          const published = composePorts(app)
          // The gateway's /metrics has a port of its own (METRICS_PORT), as in Compose.
          const metricsPort = composeEnvironment(app).get('METRICS_PORT')
          t.same(
            container.ports?.map(({ name }) => name),
            metricsPort ? ['http', 'metrics'] : ['http'],
            metricsPort ? 'the app port, named http, and metrics' : 'one container port, named http',
          )
          if (metricsPort) {
            t.equal(
              container.ports?.find(({ name }) => name === 'metrics')?.containerPort,
              Number(metricsPort),
              "compose.yaml's METRICS_PORT",
            )
          }
          if (app === 'ui') {
            t.equal(port, UI_LISTEN, "nginx's listen port (ui/nginx/default.conf.template)")
          } else {
            t.equal(port, Number(composeEnvironment(app).get('PORT')), "compose.yaml's PORT")
          }
          t.equal(port, published.container, "compose.yaml's container port")

          const service = render.get<IService>('Service', app)
          t.same(
            service.spec?.ports?.map(({ port, targetPort }) => [port, targetPort]),
            [[published.published, 'http']],
            `Service ${app} on the original port ${published.published}, to the named container port`,
          )
          t.ok(selects({ matchLabels: service.spec?.selector }, podLabels(render, app)), 'selects its pods')
          t.equal(service.spec?.clusterIP === 'None', HEADLESS.has(app), HEADLESS.has(app) ? 'headless' : 'virtual IP')

          const environment = render.environment(container)
          const readable = app === 'ui' ? UI_VARIABLES : new Set(Object.keys(NODE_APPS[app]?.schema.properties ?? {}))
          for (const name of environment.keys()) t.ok(readable.has(name), `${name} is read by ${app}`)
          for (const name of composeEnvironment(app).keys()) t.ok(environment.has(name), `${name} set, as in compose`)

          // Each peer URL names a Service of that peer, on its port.
          for (const peer of PEERS.get(app) ?? []) {
            const url = new URL(environment.get(`${peer.toUpperCase()}_URL`) ?? '')
            const peerService = render.get<IService>('Service', peer)
            const host = app === 'ui' ? `${peer}.${NAMESPACE}.svc.cluster.local` : peer
            t.equal(url.hostname, host, `${peer}'s Service name`)
            t.equal(Number(url.port), peerService.spec?.ports?.[0]?.port, `${peer}'s Service port`)
          }

          if (app === 'ui') {
            // The probes run Compose's healthcheck, against the template the pod mounts.
            const healthcheck = composeService('ui').healthcheck?.test.slice(1)
            for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe'] as const) {
              t.same(container[probe]?.exec?.command, healthcheck, `${probe}: compose.yaml's healthcheck`)
            }
            const mount = container.volumeMounts?.find(({ mountPath }) => mountPath.endsWith('healthz.conf.template'))
            const volume = render.podSpec('ui').volumes?.find(({ name }) => name === mount?.name)
            const template = render.data('ConfigMap', volume?.configMap?.name ?? '')
            t.equal(template.get(mount?.subPath ?? ''), UI_TEMPLATES[1], 'docker/ui/healthz.conf.template')
            return
          }
          t.match(container.readinessProbe?.httpGet, { path: '/readyz', port: 'http' }, 'readiness: /readyz')
          t.match(container.livenessProbe?.httpGet, { path: '/livez', port: 'http' }, 'liveness: /livez')
          t.match(container.startupProbe?.httpGet, { port: 'http' }, 'a startup probe')

          // The manifest's settings load, and the service built with them answers each probe.
          const nodeApp = NODE_APPS[app]
          if (!nodeApp) throw new Error(app)
          const settings = Object.fromEntries(environment)
          t.doesNotThrow(() => loadConfig(nodeApp.schema, settings), 'the settings are valid')
          const { DATABASE_URL: _external, ...local } = settings
          const instance = await nodeApp.build(t, { ...local, LOG_LEVEL: 'silent' })
          for (const probe of [container.startupProbe, container.readinessProbe, container.livenessProbe]) {
            const path = probe?.httpGet?.path ?? ''
            t.equal((await instance.inject({ method: 'GET', url: path })).statusCode, 200, `GET ${path} answers 200`)
          }
        })

        t.test(`${app}: hardening, resources, graceful stop, spread, disruption budget`, async (t) => {
          const pod = render.podSpec(app)
          const container = render.container(app)
          t.equal(pod.automountServiceAccountToken, false, 'no service account token')
          t.equal(pod.enableServiceLinks, false, 'no service link variables')
          t.equal(pod.securityContext?.runAsNonRoot, true, 'runAsNonRoot')
          t.ok((pod.securityContext?.runAsUser ?? 0) > 0, 'a numeric non-root user')
          t.equal(pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', 'seccomp RuntimeDefault')
          for (const each of pod.containers) {
            t.match(
              each.securityContext,
              { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
              `${each.name}: no privilege escalation, read-only root, no capabilities`,
            )
            t.notOk(each.securityContext?.capabilities?.add?.length, `${each.name}: adds no capability`)
            t.notOk(each.securityContext?.privileged, `${each.name}: not privileged`)
          }
          const tmp = container.volumeMounts?.find(({ mountPath }) => mountPath === '/tmp')
          t.ok(pod.volumes?.find(({ name }) => name === tmp?.name)?.emptyDir, '/tmp is an emptyDir')

          const { requests = {}, limits = {} } = container.resources ?? {}
          t.ok(requests.cpu && requests.memory && limits.cpu && limits.memory, 'CPU and memory requested and limited')
          t.equal(limits.memory, composeMemory(app), "memory limit as compose.yaml's mem_limit")

          // Stopped after the preStop pause plus the service's own grace, plus 1 s as in Compose.
          const grace = Number(render.environment(render.container('users')).get('SHUTDOWN_GRACE_MS'))
          t.equal(grace, Number(composeEnvironment('users').get('SHUTDOWN_GRACE_MS')), "compose.yaml's grace")
          if (app !== 'ui') t.equal(Number(render.environment(container).get('SHUTDOWN_GRACE_MS')), grace)
          const pause = preStopSleep(container)
          t.ok(pause > 0, 'a preStop pause while the pod leaves the endpoints')
          t.equal(pod.terminationGracePeriodSeconds, pause + grace / 1000 + 1, 'terminationGracePeriodSeconds')

          const labels = podLabels(render, app)
          const spread = pod.topologySpreadConstraints ?? []
          const byNode = spread.find(({ topologyKey }) => topologyKey === 'kubernetes.io/hostname')
          t.ok(byNode, 'spread over nodes')
          for (const constraint of spread) {
            t.ok(selects(constraint.labelSelector ?? {}, labels), `${constraint.topologyKey}: counts this app's pods`)
            t.ok(constraint.matchLabelKeys?.includes(NAME_LABEL), `${constraint.topologyKey}: and only them`)
          }

          const budget = render.get<IPodDisruptionBudget>('PodDisruptionBudget', app)
          t.ok(selects(budget.spec?.selector ?? {}, labels), 'a PodDisruptionBudget for its pods')
          t.equal(budget.spec?.maxUnavailable, 1, 'one pod at a time may be disrupted (also with one replica)')
        })
      }

      t.test('network policies: default deny, DNS, outside traffic to the entry points, the peer edges', async (t) => {
        const policies = render.all<INetworkPolicy>('NetworkPolicy')
        t.ok(
          policies.some(
            ({ spec }) =>
              spec &&
              Object.keys(spec.podSelector).length === 0 &&
              spec.policyTypes?.includes('Ingress') &&
              spec.policyTypes.includes('Egress') &&
              !spec.ingress &&
              !spec.egress,
          ),
          'a default-deny policy',
        )
        const postgres = render.find<IStatefulSet>('StatefulSet', 'postgres')
        const workloads = [
          ...APPS.map((app) => ['Deployment', app] as const),
          ...(postgres ? [['StatefulSet', 'postgres'] as const] : []),
        ].map(([kind, name]) => ({
          endpoint: workloadEndpoint(render, kind, name),
          port: containerPort(render, kind, name),
        }))
        const expected = (from: string, to: string) =>
          (PEERS.get(from) ?? []).includes(to) ||
          (to === 'postgres' && (DATABASE_OWNERS as readonly string[]).includes(from))
        for (const from of workloads) {
          for (const to of workloads) {
            if (from === to) continue
            const connection = { port: to.port, protocol: 'TCP' } as const
            t.equal(
              allowed(render, from.endpoint, to.endpoint, connection),
              expected(from.endpoint.name, to.endpoint.name),
              `${from.endpoint.name} → ${to.endpoint.name}:${to.port}`,
            )
          }
        }
        const outsiders: Endpoint[] = [
          { name: 'an address outside the cluster', ip: '203.0.113.7' },
          {
            name: 'an ingress controller pod',
            pod: { namespace: 'ingress', namespaceLabels: namespaceLabels('ingress'), labels: { app: 'controller' } },
          },
        ]
        for (const outsider of outsiders) {
          for (const to of workloads) {
            const connection = { port: to.port, protocol: 'TCP' } as const
            t.equal(
              allowed(render, outsider, to.endpoint, connection),
              to.endpoint.name === 'gateway' || to.endpoint.name === 'ui',
              `${outsider.name} → ${to.endpoint.name}`,
            )
          }
        }
        const dns: Endpoint = {
          name: 'kube-dns',
          pod: {
            namespace: 'kube-system',
            namespaceLabels: namespaceLabels('kube-system'),
            labels: { 'k8s-app': 'kube-dns' },
          },
        }
        for (const from of workloads) {
          for (const protocol of ['UDP', 'TCP'] as const) {
            t.ok(
              allowed(render, from.endpoint, dns, { port: 53, protocol }),
              `${from.endpoint.name} → DNS (${protocol})`,
            )
          }
          t.notOk(
            allowed(render, from.endpoint, { name: 'internet', ip: '198.51.100.1' }, { port: 443, protocol: 'TCP' }),
            `${from.endpoint.name} reaches nothing else outside`,
          )
        }
      })

      t.test('the Ingress routes to the UI and the gateway Services', async (t) => {
        const ingress = render.get<IIngress>('Ingress', 'cinema')
        const backends = (ingress.spec?.rules ?? []).flatMap(({ http }) =>
          (http?.paths ?? []).map(({ backend }) => backend.service),
        )
        t.same(backends.map((backend) => backend?.name).sort(), ['gateway', 'ui'])
        for (const backend of backends) {
          const service = render.get<IService>('Service', backend?.name ?? '')
          t.ok(
            service.spec?.ports?.some(({ name }) => name === backend?.port?.name),
            `${backend?.name}: port ${backend?.port?.name}`,
          )
        }
      })

      t.test('tokens: users, bookings and the gateway agree; the bootstrap password is a secret', async (t) => {
        for (const name of TOKEN_SETTINGS) {
          const values = TOKEN_CHECKERS.map((app) => {
            const settings = Object.fromEntries(render.environment(render.container(app)))
            return loadConfig(NODE_APPS[app]?.schema as TObject, settings)[name]
          })
          t.equal(new Set(values).size, 1, `${name}: one value for ${TOKEN_CHECKERS.join(', ')} (${values[0]})`)
        }
        t.equal(
          render.sourceOf(render.container('users'), 'ADMIN_BOOTSTRAP_PASSWORD'),
          'Secret',
          'users: ADMIN_BOOTSTRAP_PASSWORD from a Secret',
        )
        for (const configMap of render.all('ConfigMap')) {
          t.notOk(
            render.data('ConfigMap', configMap.metadata.name).has('ADMIN_BOOTSTRAP_PASSWORD'),
            `ConfigMap ${configMap.metadata.name}: no ADMIN_BOOTSTRAP_PASSWORD`,
          )
        }
      })

      t.test("the gateway's TRUST_PROXY names the UI pods", async (t) => {
        const trusted = (render.environment(render.container('gateway')).get('TRUST_PROXY') ?? '').split(',')
        const names = trusted.filter((entry) => entry && isIP(entry.split('/')[0] ?? '') === 0)
        t.ok(names.length > 0, 'a name')
        for (const name of names) {
          const service = render.get<IService>('Service', name)
          t.equal(service.spec?.clusterIP, 'None', `${name}: headless, so it resolves to the pods' own addresses`)
          t.equal(service.spec?.publishNotReadyAddresses, true, `${name}: stopping pods included`)
          t.ok(selects({ matchLabels: service.spec?.selector }, podLabels(render, 'ui')), `${name}: the UI pods`)
        }
      })

      if (overlay === 'dev') {
        t.test('dev: one replica each, PostgreSQL as in compose.yaml with its init script', async (t) => {
          for (const deployment of render.all<IDeployment>('Deployment')) {
            t.equal(deployment.spec?.replicas, 1, `${deployment.metadata.name}: one replica`)
          }
          const postgres = render.get<IStatefulSet>('StatefulSet', 'postgres')
          t.ok(postgres.spec?.volumeClaimTemplates?.length, 'a PersistentVolumeClaim for the data')
          const pod = postgres.spec?.template.spec
          const container = pod?.containers[0]
          if (!pod || !container) throw new Error('no postgres pod')
          t.match(
            container.securityContext,
            { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } },
            'hardened',
          )
          t.match(pod.securityContext, { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } })
          t.equal(container.resources?.limits?.memory, composeMemory('postgres'), "compose.yaml's mem_limit")

          const init = container.volumeMounts?.find(({ mountPath }) => mountPath === '/docker-entrypoint-initdb.d')
          const initMap = pod.volumes?.find(({ name }) => name === init?.name)?.configMap?.name ?? ''
          t.equal(render.data('ConfigMap', initMap).get('init.sh'), read('docker/postgres/init.sh'), 'init.sh')

          // The passwords are compose.yaml's, and each DATABASE_URL reaches its own database in this server.
          const postgresEnvironment = render.environment(container)
          for (const [name, value] of composeEnvironment('postgres')) {
            t.equal(postgresEnvironment.get(name), value, `postgres ${name} as in compose.yaml`)
          }
          const service = render.get<IService>('Service', 'postgres')
          for (const owner of DATABASE_OWNERS) {
            const databaseUrl = render.environment(render.container(owner)).get('DATABASE_URL') ?? ''
            t.equal(databaseUrl, composeEnvironment(owner).get('DATABASE_URL'), `${owner}: compose.yaml's DATABASE_URL`)
            const url = new URL(databaseUrl)
            t.equal(url.hostname, service.metadata.name, `${owner}: the postgres Service`)
            t.equal(Number(url.port), service.spec?.ports?.[0]?.port)
            t.equal(url.username, owner, `${owner}: its own role`)
            t.equal(url.pathname, `/${owner}`, `${owner}: its own database`)
            t.equal(
              url.password,
              postgresEnvironment.get(`${owner.toUpperCase()}_DB_PASSWORD`),
              `${owner}: the password`,
            )
          }

          // A demo as Compose is: the seeded users sign in with the demo password, the same administrator.
          const users = render.environment(render.container('users'))
          for (const name of ['DEMO_CREDENTIALS', 'ADMIN_USERNAMES']) {
            t.equal(users.get(name), composeEnvironment('users').get(name), `users ${name} as in compose.yaml`)
          }
          t.equal(users.get('DEMO_CREDENTIALS'), 'true', 'demo credentials on')
        })
      } else {
        t.test('production: autoscaled, at least two replicas, external PostgreSQL, no dev credentials', async (t) => {
          for (const deployment of render.all<IDeployment>('Deployment')) {
            const name = deployment.metadata.name
            t.equal(deployment.spec?.replicas, undefined, `${name}: the count is the autoscaler's`)
            const autoscaler = render
              .all<IHorizontalPodAutoscaler>('HorizontalPodAutoscaler')
              .find(({ spec }) => spec?.scaleTargetRef.kind === 'Deployment' && spec.scaleTargetRef.name === name)
            t.ok((autoscaler?.spec?.minReplicas ?? 0) >= 2, `${name}: at least 2 replicas`)
            t.ok(
              autoscaler?.spec?.metrics?.some(
                ({ resource }) => resource?.name === 'cpu' && resource.target.averageUtilization,
              ),
              `${name}: scaled on CPU`,
            )
            t.ok(render.container(name).resources?.requests?.cpu, `${name}: a CPU request to scale against`)
          }
          t.equal(render.all('StatefulSet').length, 0, 'no database in the cluster')
          t.notOk(render.find('Service', 'postgres'), 'no postgres Service')

          const devPasswords = [...composeEnvironment('postgres').values(), DEMO_PASSWORD]
          for (const secret of render.all('Secret')) {
            for (const [key, value] of render.data('Secret', secret.metadata.name)) {
              for (const password of devPasswords) {
                t.notOk(value.includes(password), `${secret.metadata.name} ${key}: no development password`)
              }
            }
          }
          // Only a password of their own signs a user in: demo credentials off, said in so many words.
          const users = render.environment(render.container('users'))
          t.equal(users.get('DEMO_CREDENTIALS'), 'false', 'users: DEMO_CREDENTIALS=false')
          t.equal(loadConfig(usersService.configSchema, Object.fromEntries(users)).DEMO_CREDENTIALS, false)
          t.notOk(
            (users.get('ADMIN_USERNAMES') ?? '').split(',').includes('michael_scott'),
            "users: the demo's administrator is not one",
          )
          // An address of the range the database-clients policy opens (a placeholder to replace).
          const egress = render.get<INetworkPolicy>('NetworkPolicy', 'database-clients').spec?.egress ?? []
          const server: Endpoint = {
            name: 'the PostgreSQL server',
            ip: egress[0]?.to?.[0]?.ipBlock?.cidr.split('/')[0] ?? '',
          }
          for (const owner of DATABASE_OWNERS) {
            const url = new URL(render.environment(render.container(owner)).get('DATABASE_URL') ?? '')
            t.equal(url.protocol, 'postgres:', `${owner}: a PostgreSQL URL from its Secret`)
            t.equal(url.pathname, `/${owner}`, `${owner}: its own database`)
          }
          for (const app of APPS) {
            t.equal(
              allowed(render, workloadEndpoint(render, 'Deployment', app), server, { port: 5432, protocol: 'TCP' }),
              (DATABASE_OWNERS as readonly string[]).includes(app),
              `${app} ${(DATABASE_OWNERS as readonly string[]).includes(app) ? 'reaches' : 'does not reach'} PostgreSQL`,
            )
          }
        })
      }
    })
  }

  t.test('the images carry OCI labels with the version given at build time', async (t) => {
    const stages = read('Dockerfile').split(/^FROM /m)
    // The service image is the last stage (the default target); the UI's is the stage named ui.
    for (const [file, title, stage] of [
      ['Dockerfile (services)', `cinema/\${SERVICE}`, stages.at(-1)],
      ['Dockerfile (ui)', 'cinema/ui', stages.find((text) => /^\S+ AS ui\n/.test(text))],
    ] as const) {
      const finalStage = stage ?? ''
      const labels = new Map(
        [...finalStage.matchAll(/org\.opencontainers\.image\.([a-z]+)="([^"]*)"/g)].map(([, key, value]) => [
          key,
          value,
        ]),
      )
      t.equal(labels.get('title'), title, `${file}: the image's name as title`)
      t.match(finalStage, /^ARG VERSION$/m, `${file}: ARG VERSION`)
      t.equal(labels.get('version'), `\${VERSION}`, `${file}: version`)
      t.equal(labels.get('revision'), `\${REVISION}`, `${file}: revision`)
      t.equal(labels.get('licenses'), 'MIT', `${file}: licence`)
      t.ok(labels.get('description'), `${file}: description`)
    }
  })
}

function podLabels(render: Render, app: string): Record<string, string> {
  return render.get<IDeployment>('Deployment', app).spec?.template.metadata?.labels ?? {}
}
