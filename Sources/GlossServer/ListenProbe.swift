import NIOCore
import NIOPosix

/// Checks that an address can be listened on before glossd creates anything.
///
/// `glossd serve` on a fresh data directory creates a store, a certificate and an admin token
/// before its listeners start: without this check, a second glossd started on a port in use
/// would leave all that behind and only then fail. The check binds the address (with
/// `SO_REUSEADDR`, as the listeners do, so only a live listener makes it fail) and closes it at
/// once; the listener's own bind still reports a clash that happens in between.
public enum ListenProbe {
    /// Binds `host:port` and releases it. Port 0 is not checked: any free port will do.
    ///
    /// - Throws: ``ListenError`` as the listener would (``ListenError/binding(_:host:port:what:setting:)``).
    public static func check(
        host: String, port: Int, what: String = "", setting: String,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws(ListenError) {
        guard port != 0 else { return }
        let channel = try await ListenError.naming(host: host, port: port, what: what, setting: setting) {
            try await ServerBootstrap(group: group)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .bind(host: host, port: port).get()
        }
        try? await channel.close()
    }
}
