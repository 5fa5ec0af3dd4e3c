package io.isthmus.mesh.daemon.internal;

import static java.nio.charset.StandardCharsets.UTF_8;

import io.etcd.jetcd.ByteSequence;
import io.etcd.jetcd.Client;
import io.etcd.jetcd.ClientBuilder;
import io.etcd.jetcd.KeyValue;
import io.etcd.jetcd.options.GetOption;
import io.etcd.jetcd.options.PutOption;
import io.isthmus.mesh.config.ConfigStoreException;
import io.isthmus.mesh.daemon.DaemonConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Router records in etcd, beside the mesh's objects but outside their key range:
 *
 * <pre>
 * &lt;namespace&gt;-routers/&lt;site&gt;/&lt;routerId&gt;  {"site":..,"routerId":..,"version":..,"appliedRevision":..,"state":..,"lastSeen":..}
 * </pre>
 *
 * e.g. {@code /isthmus-routers/tokyo/node-1}. Each record is attached to a lease of three times the
 * daemon's check interval (at least 10 s), renewed with each write, so the record of a router that
 * died disappears on its own. The config store's range ({@code /isthmus/}) does not include these keys,
 * so routers never see them as configuration.
 */
public final class EtcdRouterRecords implements RouterRecords {

    private static final Logger logger = LoggerFactory.getLogger(EtcdRouterRecords.class);

    private final Client client;
    private final String prefix;
    private final String names;
    private final Duration timeout;
    private final long ttlSeconds;
    private final JsonMapper json = JsonMapper.builder().build();
    private long leaseId;
    private String ownKey = "";

    /**
     * Connects (lazily) to the etcd of the daemon's configuration.
     *
     * @param config the daemon's settings: endpoints, credentials, namespace, timeouts
     */
    public EtcdRouterRecords(DaemonConfig config) {
        this.prefix = config.etcdNamespace() + "-routers/";
        this.names = config.etcdEndpoints().toString();
        this.timeout = config.etcdRequestTimeout();
        this.ttlSeconds = Math.max(10, config.storeCheckInterval().multipliedBy(3).toSeconds());
        ClientBuilder builder = Client.builder().endpoints(config.etcdEndpoints()).connectTimeout(timeout);
        if (config.etcdUsername() != null && config.etcdPasswordFile() != null) {
            try {
                builder.user(ByteSequence.from(config.etcdUsername(), UTF_8))
                        .password(ByteSequence.from(Files.readString(config.etcdPasswordFile(), UTF_8).strip(), UTF_8));
            } catch (IOException e) {
                throw new ConfigStoreException("etcd.passwordFile: cannot read " + config.etcdPasswordFile(), e);
            }
        }
        if (config.etcdEndpoints().stream().anyMatch(u -> "https".equalsIgnoreCase(u.getScheme()))) {
            try {
                builder.sslContext(ssl -> {
                    if (config.etcdTrustCertificates() != null) {
                        ssl.trustManager(config.etcdTrustCertificates().toFile());
                    }
                    if (config.etcdCertificateChain() != null && config.etcdPrivateKey() != null) {
                        ssl.keyManager(config.etcdCertificateChain().toFile(), config.etcdPrivateKey().toFile());
                    }
                });
            } catch (SSLException e) {
                throw new ConfigStoreException("etcd " + names + ": cannot use the TLS files: " + e.getMessage(), e);
            }
        }
        this.client = builder.build();
    }

    @Override
    public synchronized void publish(Record self) {
        ownKey = prefix + self.site() + "/" + self.routerId();
        ObjectNode value = json.createObjectNode();
        value.put("site", self.site());
        value.put("routerId", self.routerId());
        value.put("version", self.version());
        value.put("appliedRevision", self.appliedRevision());
        value.put("state", self.state());
        value.put("lastSeen", self.lastSeen().toString());
        if (leaseId != 0) {
            try {
                long ttl = await(client.getLeaseClient().keepAliveOnce(leaseId), "renew lease").getTTL();
                if (ttl <= 0) {
                    leaseId = 0;
                }
            } catch (ConfigStoreException e) {
                leaseId = 0; // expired or unknown: grant a new one below
            }
        }
        if (leaseId == 0) {
            leaseId = await(client.getLeaseClient().grant(ttlSeconds), "grant lease").getID();
        }
        await(client.getKVClient().put(bytes(ownKey), bytes(json.writeValueAsString(value)),
                PutOption.builder().withLeaseId(leaseId).build()), "put " + ownKey);
    }

    @Override
    public List<Record> list() {
        List<Record> records = new ArrayList<>();
        for (KeyValue kv : await(client.getKVClient().get(bytes(prefix),
                GetOption.builder().isPrefix(true).build()), "get " + prefix).getKvs()) {
            try {
                JsonNode node = json.readTree(kv.getValue().toString(UTF_8));
                records.add(new Record(node.path("site").asString(), node.path("routerId").asString(),
                        node.path("version").asString(), node.path("appliedRevision").asLong(),
                        node.path("state").asString(), Instant.parse(node.path("lastSeen").asString())));
            } catch (RuntimeException e) {
                logger.warn("skipping the router record {}: {}", kv.getKey().toString(UTF_8), e.toString());
            }
        }
        records.sort(Comparator.comparing(Record::site).thenComparing(Record::routerId));
        return records;
    }

    @Override
    public synchronized void close() {
        try {
            if (leaseId != 0) {
                client.getLeaseClient().revoke(leaseId).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (ExecutionException | TimeoutException e) {
            logger.debug("cannot revoke the lease of {}; it expires on its own", ownKey, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            client.close();
        }
    }

    private static ByteSequence bytes(String text) {
        return ByteSequence.from(text, UTF_8);
    }

    private <T> T await(CompletableFuture<T> future, String what) {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            throw new ConfigStoreException("etcd " + names + ": " + what + " failed: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            future.cancel(true);
            throw new ConfigStoreException("etcd " + names + ": " + what + " timed out after " + timeout.toMillis() + " ms", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ConfigStoreException("etcd " + names + ": " + what + " interrupted", e);
        }
    }
}
