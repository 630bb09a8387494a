// Checks Kubernetes manifests against the API's schema, without a cluster:
//   * kubernetes-models validates each object (types, required fields,
//     formats, enums) as the API server's OpenAPI schema does;
//   * kubernetes-models accepts fields the API does not have, which the API
//     server rejects (strict field validation) or drops, so every field is
//     also looked up in @kubernetes/client-node's model of its type.
// First it shows that both checks can fail: a copy of a DaemonSet with a
// wrong type and one with a misspelt field must be refused.
//
// usage: node validate.mjs FILE.yaml...
import fs from 'node:fs';
import * as clientNode from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

// "apps/v1" + "DaemonSet" -> kubernetes-models/apps/v1/DaemonSet
async function modelClass(apiVersion, kind) {
  const path = apiVersion.includes('/') ? apiVersion : `v1`;
  const mod = await import(`kubernetes-models/${path === 'v1' ? 'v1' : path}/${kind}`);
  return mod[kind];
}

// "apps/v1" + "DaemonSet" -> client-node's V1DaemonSet
function clientTypeName(apiVersion, kind) {
  const version = apiVersion.split('/').pop();
  return version.charAt(0).toUpperCase() + version.slice(1) + kind;
}

// Fields of `value` that its type (a client-node model name) does not have.
function unknownFields(value, type, at, out) {
  if (value === null || value === undefined) return out;
  let m = /^Array<(.+)>$/.exec(type);
  if (m) {
    if (Array.isArray(value)) value.forEach((v, i) => unknownFields(v, m[1], `${at}[${i}]`, out));
    return out;
  }
  m = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (m) {
    for (const [k, v] of Object.entries(value)) unknownFields(v, m[1], `${at}.${k}`, out);
    return out;
  }
  const model = clientNode[type];
  if (!model || typeof model.getAttributeTypeMap !== 'function' || typeof value !== 'object') return out;
  const fields = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const [k, v] of Object.entries(value)) {
    if (!fields.has(k)) out.push(`${at}.${k}: no such field in ${type}`);
    else unknownFields(v, fields.get(k), `${at}.${k}`, out);
  }
  return out;
}

async function problems(obj) {
  const out = [];
  const Model = await modelClass(obj.apiVersion, obj.kind).catch(() => null);
  if (!Model) return [`${obj.apiVersion} ${obj.kind}: not a Kubernetes kind`];
  try {
    new Model(obj).validate();
  } catch (e) {
    out.push(e.message);
  }
  return unknownFields(obj, clientTypeName(obj.apiVersion, obj.kind), obj.kind, out);
}

function documents(file) {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
  for (const d of docs) if (d.errors.length) throw new Error(`${file}: ${d.errors[0].message}`);
  return docs.map((d) => d.toJS()).filter((o) => o);
}

async function selfTest(daemonset) {
  const wrongType = structuredClone(daemonset);
  wrongType.spec.template.spec.hostNetwork = 'yes';
  const misspelt = structuredClone(daemonset);
  misspelt.spec.template.spec.hostNetwrk = true;
  for (const [what, obj] of [['a wrong type', wrongType], ['a misspelt field', misspelt]]) {
    const p = await problems(obj);
    if (p.length === 0) throw new Error(`the check let ${what} through`);
    console.log(`ok: ${what} is refused (${p[0]})`);
  }
}

let failed = false;
let daemonset = null;
for (const file of process.argv.slice(2)) {
  for (const obj of documents(file)) {
    const p = await problems(obj);
    const name = `${file}: ${obj.kind} ${obj.metadata?.namespace ?? ''}/${obj.metadata?.name}`;
    if (p.length) {
      failed = true;
      console.log(`FAIL ${name}\n  ${p.join('\n  ')}`);
    } else {
      console.log(`ok: ${name}`);
    }
    if (obj.kind === 'DaemonSet') daemonset ??= obj;
  }
}
if (!daemonset) throw new Error('no DaemonSet among the files');
await selfTest(daemonset);
process.exit(failed ? 1 : 0);
