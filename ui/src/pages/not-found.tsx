import { useLocation } from 'preact-iso'
import { usePageTitle } from '../hooks'

export function NotFound() {
  const { path } = useLocation()
  usePageTitle('Page not found')
  return (
    <>
      <h1>Page not found</h1>
      <p>
        There is no page at <code>{path}</code>. Try the <a href="/">dashboard</a>, the <a href="/movies">movies</a> or
        the <a href="/users">users</a>.
      </p>
    </>
  )
}
