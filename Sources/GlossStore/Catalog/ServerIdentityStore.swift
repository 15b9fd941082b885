/// Where a server keeps its one TLS identity (certificate and private key, PEM), so that every
/// node of a cluster presents the same certificate and clients pin one fingerprint.
///
/// Calls block, like ``ServerCatalog``'s.
///
/// ## Contract
/// - The first identity stored wins, for good: ``storeServerIdentityIfAbsent(certificatePEM:keyPEM:)``
///   never replaces one, and returns the identity that is stored once it returns, its own or
///   one another node stored first. Two nodes that start together, each with an identity it
///   generated, therefore both end up using the same one.
public protocol ServerIdentityStore: Sendable {
    /// The stored identity, or nil when none is stored yet.
    func serverIdentity() throws -> (certificatePEM: String, keyPEM: String)?
    /// Stores this identity unless one is stored, and returns the identity stored now.
    func storeServerIdentityIfAbsent(certificatePEM: String, keyPEM: String) throws
        -> (certificatePEM: String, keyPEM: String)
}
