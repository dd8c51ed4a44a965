/**
 * Tencent Cloud's Node SDK (tencentcloud-sdk-nodejs-common) signs TC3-HMAC-SHA256 for
 * the service `client.endpoint.split('.')[0]` and has no option for it, so a local or
 * private endpoint (`127.0.0.1:9000`) would be signed as service `127`. For a host whose
 * first label is not `service`, this returns a String object that is the real host in
 * every use but `split`, which splits `<service>.<host>`. The SMS provider and the
 * captcha check both use it; their tests prove the signature against fakes that
 * recompute it.
 */
export function endpointSignedAs(service: string, host: string): string {
  if (host.split('.')[0] === service) return host
  const endpoint = new String(host)
  const signedAs = `${service}.${host}`
  Object.defineProperty(endpoint, 'split', {
    value: (separator: string | RegExp, limit?: number) => signedAs.split(separator, limit),
    enumerable: false,
  })
  return endpoint as unknown as string
}
