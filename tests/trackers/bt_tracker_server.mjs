// Starts the npm `bittorrent-tracker` server (HTTP + UDP, no WebSocket) on
// 127.0.0.1 for the tests; prints "ready <port>" once both listen. Stats at
// http://127.0.0.1:<port>/stats.json. Ends when stdin closes.
import Server from 'bittorrent-tracker/server'

const port = Number(process.argv[2])
const server = new Server({ udp: true, http: true, ws: false, stats: true, trustProxy: false })
server.on('error', (err) => { console.error('tracker error: ' + err.message); process.exit(1) })
server.on('warning', () => {})
server.listen(port, { http: '127.0.0.1', udp: '127.0.0.1', udp6: '::1' }, () => { console.log('ready ' + port) })
process.stdin.on('end', () => server.close(() => process.exit(0)))
process.stdin.resume()
