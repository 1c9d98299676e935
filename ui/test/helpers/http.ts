import { request } from 'node:http'

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  /** As sent: still compressed when the server compressed it. */
  body: Buffer
  text: string
}

/** A GET that shows the answer as the server sent it (fetch would decompress and hide that). */
export function get(url: string, headers: Record<string, string> = {}): Promise<RawResponse> {
  return send('GET', url, headers)
}

/** A request with any method and body, its answer as the server sent it. */
export function send(
  method: string,
  url: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const outgoing = request(url, { method, headers }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () => {
        const body = Buffer.concat(chunks)
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body, text: body.toString('utf8') })
      })
      response.on('error', reject)
    })
    outgoing.on('error', reject)
    outgoing.end(body)
  })
}
