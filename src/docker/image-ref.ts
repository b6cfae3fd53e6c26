// Docker image references, `[registry[:port]/]repo[:tag][@digest]`. Two uses (docs/containers.md):
// - validation before anything is pulled, so a task whose image Docker would refuse fails as
//   TASK_INVALID with a message naming the mistake instead of an opaque pull error;
// - the tag that becomes SERVICE_VERSION. **(better)** The Go original took the text after the
//   first `:`, so `registry:5000/app:1.2` gave `5000/app`.
// The grammar follows github.com/distribution/reference (regexp.go, normalize.go), which is
// what `docker pull` applies: lowercase path components joined by `.`, `_`, `__` or dashes; a
// domain recognised only when the first component has a `.` or `:`, is `localhost`, or has
// uppercase; tags of at most 128 word characters; `algorithm:hex` digests.

export interface ImageRef {
  /** Registry host[:port], when the reference names one. */
  domain: string | undefined;
  /** Repository path without the domain, e.g. `library/nginx`, `team/app`. */
  path: string;
  tag: string | undefined;
  digest: string | undefined;
}

export type ImageRefResult = { ok: true; ref: ImageRef } | { ok: false; reason: string };

const NAME_MAX = 255;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^\w[\w.-]{0,127}$/;
const DIGEST = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
/** go-digest's registered algorithms: Docker refuses other lengths (and uppercase hex) for them. */
const DIGEST_HEX_LENGTH: Readonly<Record<string, number>> = { sha256: 64, sha384: 96, sha512: 128 };
const HEX_IDENTIFIER = /^[a-f0-9]{64}$/;

function fail(reason: string): ImageRefResult {
  return { ok: false, reason };
}

/** Docker's splitDockerDomain heuristic: `app/web` is a repository, `registry.io/web` a registry. */
function splitDomain(name: string): { domain: string | undefined; path: string } {
  const slash = name.indexOf('/');
  if (slash === -1) return { domain: undefined, path: name };
  const first = name.slice(0, slash);
  const looksLikeDomain = /[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first;
  return looksLikeDomain ? { domain: first, path: name.slice(slash + 1) } : { domain: undefined, path: name };
}

function digestProblem(digest: string): string | undefined {
  if (!DIGEST.test(digest)) return `digest "${digest}" is not of the form algorithm:hex (e.g. sha256: followed by 64 hex digits)`;
  const [algorithm = '', hex = ''] = digest.split(':');
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length !== undefined && !new RegExp(`^[a-f0-9]{${length}}$`).test(hex)) {
    return `digest "${digest}" must have exactly ${length} lowercase hex digits after "${algorithm}:"`;
  }
  return undefined;
}

function pathProblem(path: string): string | undefined {
  if (path === '') return 'the repository name is empty';
  for (const component of path.split('/')) {
    if (component === '') return `repository name "${path}" has an empty path component (a leading, trailing or doubled "/")`;
    if (PATH_COMPONENT.test(component)) continue;
    if (PATH_COMPONENT.test(component.toLowerCase())) return `repository name "${path}" must be lowercase`;
    return `repository path component "${component}" may only hold lowercase letters and digits, joined by ".", "_", "__" or "-"`;
  }
  return undefined;
}

export function parseImageRef(image: string): ImageRefResult {
  if (image === '') return fail('the image name is empty');
  if (/\s/.test(image)) return fail('the image name contains whitespace');
  const at = image.indexOf('@');
  const digest = at === -1 ? undefined : image.slice(at + 1);
  const nameAndTag = at === -1 ? image : image.slice(0, at);
  if (digest !== undefined) {
    const problem = digestProblem(digest);
    if (problem !== undefined) return fail(problem);
  }
  // The tag's colon is the last one after the last slash; earlier colons belong to a port.
  const colon = nameAndTag.lastIndexOf(':');
  const hasTag = colon > nameAndTag.lastIndexOf('/');
  const name = hasTag ? nameAndTag.slice(0, colon) : nameAndTag;
  const tag = hasTag ? nameAndTag.slice(colon + 1) : undefined;
  if (name === '') return fail('the repository name is empty');
  if (tag !== undefined && !TAG.test(tag)) {
    return fail(`tag "${tag}" must be 1 to 128 letters, digits, "_", "." or "-", not starting with "." or "-"`);
  }
  if (name.length > NAME_MAX) return fail(`the repository name is longer than ${NAME_MAX} characters`);
  if (HEX_IDENTIFIER.test(name)) return fail(`"${name}" looks like an image id (64 hex digits), not a repository name`);
  const { domain, path } = splitDomain(name);
  if (domain !== undefined && !DOMAIN.test(domain)) return fail(`registry "${domain}" is not a valid host[:port]`);
  const problem = pathProblem(path);
  if (problem !== undefined) return fail(problem);
  return { ok: true, ref: { domain, path, tag, digest } };
}

/**
 * The image's tag (SERVICE_VERSION, docs/containers.md): the text after the last `:` that follows
 * the last `/`, once any `@digest` is set aside. `registry:5000/app` and `app@sha256:…` have none.
 */
export function imageTag(image: string): string | undefined {
  const at = image.indexOf('@');
  const nameAndTag = at === -1 ? image : image.slice(0, at);
  const lastSegment = nameAndTag.slice(nameAndTag.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon === -1 || colon === lastSegment.length - 1) return undefined;
  return lastSegment.slice(colon + 1);
}

/** The repository as written, registry included: the pull's `fromImage`. */
export function repositoryOf(ref: ImageRef): string {
  return ref.domain === undefined ? ref.path : `${ref.domain}/${ref.path}`;
}

/**
 * The repository as Docker lists it in RepoTags and RepoDigests (its "familiar" form): Docker
 * Hub's domain and the `library/` of official images left out, so `docker.io/library/busybox`
 * and `busybox` compare equal in the exact-tag check (docs/containers.md).
 */
export function familiarRepository(ref: ImageRef): string {
  const hub = ref.domain === undefined || ref.domain === 'docker.io' || ref.domain === 'index.docker.io';
  if (!hub) return repositoryOf(ref);
  const official = ref.path.startsWith('library/') && !ref.path.slice('library/'.length).includes('/');
  return official ? ref.path.slice('library/'.length) : ref.path;
}
