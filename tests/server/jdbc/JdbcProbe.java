// A real pgjdbc client against Quanta's SQL port: each step prints one "name=value" line (or
// "name=ERROR <sqlstate> <message>"), so the Python test can assert on each. Run as a single-file
// program: java -cp /usr/share/java/postgresql.jar JdbcProbe.java PORT USER PASSWORD
import java.sql.*;
import java.util.*;

public class JdbcProbe {
    interface Step { String run() throws SQLException; }

    static void step(String name, Step step) {
        try {
            System.out.println(name + "=" + step.run());
        } catch (SQLException e) {
            System.out.println(name + "=ERROR " + e.getSQLState() + " " + e.getMessage().replace('\n', ' '));
        }
    }

    static String column(ResultSet r, String... names) throws SQLException {
        List<String> rows = new ArrayList<>();
        while (r.next()) {
            List<String> values = new ArrayList<>();
            for (String n : names) values.add(r.getString(n));
            rows.add(String.join(":", values));
        }
        return String.join(",", rows);
    }

    public static void main(String[] args) throws Exception {
        Properties props = new Properties();
        props.setProperty("user", args[1]);
        props.setProperty("password", args[2]);
        props.setProperty("sslmode", "disable");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + args[0] + "/quanta", props)) {
            DatabaseMetaData meta = c.getMetaData();
            step("version", () -> meta.getDatabaseProductName() + " " + meta.getDatabaseMajorVersion());
            step("count", () -> {
                try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("select count(*) from sales.orders")) {
                    r.next();
                    return Long.toString(r.getLong(1));
                }
            });
            step("lookup", () -> {
                String sql = "select order_id, amount, order_date from sales.orders where order_id = ?";
                try (PreparedStatement p = c.prepareStatement(sql)) {
                    p.setString(1, "o-00007");
                    try (ResultSet r = p.executeQuery()) {
                        r.next();
                        return r.getString(1) + "," + r.getDouble(2) + "," + r.getDate(3);
                    }
                }
            });
            step("over250", () -> {  // past pgjdbc's prepareThreshold (5): a named server-side statement
                try (PreparedStatement p = c.prepareStatement("select count(*) from sales.orders where amount > ?")) {
                    long n = -1;
                    for (int i = 0; i < 7; i++) {
                        p.setDouble(1, 250.0);
                        try (ResultSet r = p.executeQuery()) {
                            r.next();
                            n = r.getLong(1);
                        }
                    }
                    return Long.toString(n);
                }
            });
            step("tables", () -> column(meta.getTables(null, "sales", "%", new String[] {"TABLE"}), "TABLE_NAME"));
            step("columns", () -> column(meta.getColumns(null, "sales", "orders", "%"), "COLUMN_NAME", "TYPE_NAME"));
            step("pk", () -> column(meta.getPrimaryKeys(null, "sales", "orders"), "COLUMN_NAME", "PK_NAME"));
            step("schemas", () -> column(meta.getSchemas(), "TABLE_SCHEM"));
            step("types", () -> column(meta.getTypeInfo(), "TYPE_NAME", "DATA_TYPE"));
            step("refused", () -> {
                try (Statement s = c.createStatement()) {
                    s.executeQuery("select * from read_csv('/etc/passwd')");
                    return "not refused";
                }
            });
            step("after", () -> {
                try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("select 40 + 2")) {
                    r.next();
                    return Integer.toString(r.getInt(1));
                }
            });
        }
    }
}
