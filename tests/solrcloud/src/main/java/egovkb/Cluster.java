package egovkb;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.apache.solr.embedded.JettyConfig;
import org.apache.solr.embedded.JettySolrRunner;
import org.apache.solr.cloud.MiniSolrCloudCluster;

/**
 * A SolrCloud cluster for egovkb's tests: N Solr nodes (3 by default) on
 * 127.0.0.1 with an embedded ZooKeeper, from Solr's test framework.
 *
 * <p>Prints one line per node, {@code node <port> <base URL>}, then
 * {@code zk <host:port>} and {@code ready}. {@code quit} on standard
 * input, the end of input, SIGTERM or SIGINT shut it down; the data folder
 * is removed on the way out.
 */
public final class Cluster {
  public static void main(String[] args) throws Exception {
    int nodes = args.length > 0 ? Integer.parseInt(args[0]) : 3;
    Path base = Files.createTempDirectory("egovkb-solrcloud-");
    System.setProperty("host", "127.0.0.1");
    System.setProperty("solr.log.dir", base.resolve("logs").toString());
    JettyConfig jetty = JettyConfig.builder().setPort(0).stopAtShutdown(false).build();
    MiniSolrCloudCluster cluster = new MiniSolrCloudCluster(nodes, base, jetty);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(cluster, base)));
    for (JettySolrRunner node : cluster.getJettySolrRunners()) {
      System.out.println("node " + node.getLocalPort() + " " + node.getBaseUrl());
    }
    System.out.println("zk " + cluster.getZkServer().getZkAddress());
    System.out.println("ready");
    System.out.flush();
    // Until `quit` or the end of input.
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    String line;
    while ((line = in.readLine()) != null && !line.trim().equals("quit")) {}
    System.exit(0);
  }

  private static void shutdown(MiniSolrCloudCluster cluster, Path base) {
    try {
      cluster.shutdown();
    } catch (Exception e) {
      System.err.println("shutting down: " + e);
    }
    try (var paths = Files.walk(base)) {
      paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (Exception e) {
      System.err.println("removing " + base + ": " + e);
    }
  }
}
