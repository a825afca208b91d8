// Starts the npm `bittorrent-tracker` server (HTTP + UDP, no WebSocket) on
// 127.0.0.1 for the tests; prints "ready <port>" once both listen. Stats at
// http://127.0.0.1:<port>/stats.json. Ends when stdin closes. An optional
// second argument is the announce interval in ms (the package's default is
// 10 minutes, too long for a test that waits for a re-announce). An optional
// third is the HTTP address (127.0.0.1, or ::1 for an IPv6 tracker: the
// IPv6 test runs it in a network namespace of its own).
import Server from 'bittorrent-tracker/server'

const port = Number(process.argv[2])
const interval = process.argv[3] && process.argv[3] !== '-' ? Number(process.argv[3]) : 10 * 60 * 1000
const httpHost = process.argv[4] || '127.0.0.1'
const server = new Server({ udp: true, http: true, ws: false, stats: true, trustProxy: false, interval })
server.on('error', (err) => { console.error('tracker error: ' + err.message); process.exit(1) })
server.on('warning', () => {})
server.listen(port, { http: httpHost, udp: '127.0.0.1', udp6: '::1' }, () => { console.log('ready ' + port) })
process.stdin.on('end', () => server.close(() => process.exit(0)))
process.stdin.resume()
