import GlossStore
import PostgresNIO

/// The cluster's TLS identity in the `server_identity` table: one row, the first stored wins.
extension PostgresServerCatalog {
    public func serverIdentity() throws -> (certificatePEM: String, keyPEM: String)? {
        try single { connection in
            try connection.query("SELECT certificate_pem, key_pem FROM server_identity WHERE id = 1").first.map { row in
                let (certificate, key) = try row.decode((String, String).self)
                return (certificate, key)
            }
        }
    }

    public func storeServerIdentityIfAbsent(certificatePEM: String, keyPEM: String) throws
        -> (certificatePEM: String, keyPEM: String)
    {
        try write { connection in
            // Two nodes starting together: the second insert waits for the first to commit and
            // then does nothing; the select, a new statement under READ COMMITTED, sees the
            // committed row, so both return the same identity.
            try connection.execute(
                """
                INSERT INTO server_identity(id, certificate_pem, key_pem) VALUES (1, \(certificatePEM), \(keyPEM))
                ON CONFLICT (id) DO NOTHING
                """)
            guard let row = try connection.query("SELECT certificate_pem, key_pem FROM server_identity WHERE id = 1").first
            else {
                throw CatalogError(.backend, "the server identity is missing right after storing it", context: location)
            }
            let (certificate, key) = try row.decode((String, String).self)
            return (certificate, key)
        }
    }
}
