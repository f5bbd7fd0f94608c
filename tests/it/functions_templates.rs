//! Functions read from the infrastructure files of real projects (built
//! with SAM CLI, the CDK and the Serverless Framework; Terraform written by
//! hand), compared function by function: runtime, architecture, layers in
//! load order, code, merged package set, bundles.

use crate::common::functions::{fixture, function, layer_ids, names, package, scan};
use serde_json::Value;

fn finding_ids(f: &Value, origin: &str, pkg: &str) -> Vec<(String, bool, Value)> {
    f["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|x| x["origin"] == origin && x["package"] == pkg && x["kind"] == "vulnerability")
        .map(|x| {
            (
                x["id"].as_str().unwrap().to_string(),
                x["effective"].as_bool().unwrap(),
                x["shadowed_by"].clone(),
            )
        })
        .collect()
}

#[test]
fn sam_build_template_stands_for_the_project() {
    let (_, r) = scan(&fixture("sam"), &[]);
    // The built functions, each once: the source template is superseded.
    assert_eq!(
        names(&r),
        vec!["OrdersApi", "LegacyReport", "NodeApi", "ThumbnailFn"]
    );
    let orders = function(&r, "OrdersApi");
    assert_eq!(orders["framework"], "sam");
    assert_eq!(orders["template"], ".aws-sam/build/template.yaml:19");
    assert_eq!(orders["source"], "template.yaml:20");
    assert_eq!(orders["runtime"], "python3.12");
    // Architectures from Globals.
    assert_eq!(orders["architecture"], "arm64");
    assert_eq!(orders["architecture_defaulted"], false);
    assert_eq!(orders["handler"], "app.handler");
    assert_eq!(orders["package_type"], "Zip");
    assert_eq!(orders["code"]["kind"], "dir");
    assert_eq!(orders["code"]["artifact"], ".aws-sam/build/OrdersApi");
    assert_eq!(
        layer_ids(orders),
        vec![
            "SharedLayer",
            "NativeX86Layer",
            "arn:aws:lambda:us-east-1:017000801446:layer:AWSLambdaPowertoolsPythonV3-python312-arm64:7"
        ]
    );
    let layers = orders["layers"].as_array().unwrap();
    assert_eq!(layers[0]["artifact"], ".aws-sam/build/SharedLayer");
    // The prebuilt layer's ContentUri is relative to .aws-sam/build.
    assert_eq!(layers[1]["artifact"], "layers/native_x86");
    assert_eq!(layers[2]["kind"], "external");
    assert_eq!(layers[2]["scanned"], false);
    assert_eq!(orders["scanned"], true);
    assert_eq!(
        orders["complete"], false,
        "an external layer is not scanned"
    );
    assert!(
        orders["errors"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["level"] == "error" && e["message"].as_str().unwrap().contains("external")),
        "{:#}",
        orders["errors"]
    );
    // A function's Architectures replaces the global one.
    let legacy = function(&r, "LegacyReport");
    assert_eq!(legacy["architecture"], "x86_64");
    assert_eq!(legacy["runtime"], "python3.8");
    assert_eq!(layer_ids(legacy), vec!["SharedLayer"]);
    assert_eq!(legacy["complete"], true);
    let thumb = function(&r, "ThumbnailFn");
    assert_eq!(thumb["package_type"], "Image");
    assert_eq!(thumb["scanned"], false);
    assert_eq!(thumb["not_scanned_reason"], "package-type-image");
    assert_eq!(thumb["runtime"], Value::Null);
    assert_eq!(thumb["code"]["artifact"], "thumbnailfn:python3.12-v1");
    // Deployments no function uses are still reported.
    let deps: Vec<&str> = r["deployments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(deps.contains(&"thumbnail"), "{deps:?}");
}

#[test]
fn sam_merged_package_set_follows_the_load_order() {
    let (_, r) = scan(&fixture("sam"), &[]);
    let orders = function(&r, "OrdersApi");
    // The function's urllib3 is loaded; the shared layer's is shadowed.
    let own = package(orders, "function", "urllib3");
    assert_eq!(own["version"], "2.8.0");
    assert_eq!(own["effective"], true);
    assert_eq!(own["location"], ".aws-sam/build/OrdersApi");
    let layer = package(orders, "layer:SharedLayer", "urllib3");
    assert_eq!(layer["version"], "1.26.5");
    assert_eq!(layer["effective"], false);
    assert_eq!(layer["shadowed_by"], "function");
    assert_eq!(layer["location"], ".aws-sam/build/SharedLayer/python");
    assert_eq!(
        package(orders, "layer:SharedLayer", "PyYAML")["effective"],
        true
    );
    assert_eq!(
        package(orders, "layer:NativeX86Layer", "MarkupSafe")["effective"],
        true
    );
    // Its advisories are in the function's findings, marked not effective.
    let ids = finding_ids(orders, "layer:SharedLayer", "urllib3");
    assert!(!ids.is_empty());
    assert!(
        ids.iter().all(|(_, eff, by)| !eff && by == "function"),
        "{ids:?}"
    );
    // In LegacyReport the layer's urllib3 is the one loaded.
    let legacy = function(&r, "LegacyReport");
    let ids = finding_ids(legacy, "layer:SharedLayer", "urllib3");
    assert!(
        !ids.is_empty() && ids.iter().all(|(_, eff, _)| *eff),
        "{ids:?}"
    );
    assert_eq!(
        package(legacy, "function", "Jinja2")["version"],
        "2.11.3",
        "built by pip for python3.8"
    );
}

#[test]
fn sam_esbuild_bundle_packages_come_from_the_source_map_and_lockfile() {
    let (_, r) = scan(&fixture("sam"), &[]);
    let api = function(&r, "NodeApi");
    assert_eq!(api["code"]["bundle_lockfile"], "node_api/package-lock.json");
    let minimist = package(api, "function", "minimist");
    assert_eq!(minimist["version"], "1.2.5");
    assert_eq!(minimist["bundled"], true);
    assert_eq!(minimist["location"], ".aws-sam/build/NodeApi/app.js");
    assert_eq!(package(api, "function", "ms")["version"], "2.1.3");
    // The AWS SDK is left to the Node.js runtime.
    let sdk = package(api, "runtime", "@aws-sdk/client-dynamodb");
    assert_eq!(sdk["version"], Value::Null);
    // Dev-only packages (the bundler) are never bundled: not listed.
    assert!(
        !api["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["name"].as_str().unwrap().contains("esbuild")),
        "{:#}",
        api["packages"]
    );
    // The lockfile's minimist advisory reaches the function.
    let ids = finding_ids(api, "function", "minimist");
    assert!(
        ids.iter()
            .any(|(id, eff, _)| id.starts_with("GHSA-") && *eff),
        "{ids:?}"
    );
}

#[test]
fn cdk_assembly_functions_with_assets_bundles_and_zips() {
    let (_, r) = scan(&fixture("cdk"), &[]);
    let mut got = names(&r);
    got.sort();
    assert_eq!(
        got,
        vec![
            "InlineFn5EDE362A",
            "LegacyFn10E6AA91",
            "OrdersFnC7735A71",
            "ReportFnA6F5CCA6",
            "ThumbFnBD56D4D7",
            "ToolFnB10B8A8D"
        ]
    );
    let report = function(&r, "ReportFnA6F5CCA6");
    assert_eq!(report["framework"], "cdk");
    assert!(
        report["template"]
            .as_str()
            .unwrap()
            .starts_with("cdk.out/ShopStack.template.json:")
    );
    assert_eq!(report["construct_path"], "ShopStack/ReportFn/Resource");
    assert_eq!(report["architecture"], "arm64");
    assert_eq!(report["runtime"], "python3.12");
    let layers = layer_ids(report);
    assert_eq!(layers[0], "CommonLayer306767A0");
    assert!(layers[1].contains("LambdaInsightsExtension-Arm64"));
    assert!(
        report["code"]["artifact"]
            .as_str()
            .unwrap()
            .starts_with("cdk.out/asset.")
    );
    // The function's x86_64 PyYAML shadows the layer's aarch64 one.
    assert_eq!(
        package(report, "layer:CommonLayer306767A0", "PyYAML")["shadowed_by"],
        "function"
    );
    // OrdersFn: metafile and source map; versions from lambda/orders.
    let orders = function(&r, "OrdersFnC7735A71");
    assert_eq!(orders["architecture"], "x86_64");
    assert_eq!(orders["architecture_defaulted"], true);
    assert_eq!(
        orders["code"]["bundle_lockfile"],
        "lambda/orders/package-lock.json"
    );
    assert_eq!(package(orders, "function", "minimist")["version"], "1.2.5");
    assert_eq!(package(orders, "function", "uuid")["version"], "8.3.2");
    let left_pad = package(orders, "function", "left-pad");
    assert_eq!(
        left_pad["bundled"], false,
        "never imported, so never bundled"
    );
    assert_eq!(left_pad["effective"], false);
    assert_eq!(
        package(orders, "runtime", "@aws-sdk/client-s3")["version"],
        Value::Null
    );
    // LegacyFn: CDK's default bundle (no map, no metafile): the comments,
    // and the project's lockfile found by what it lists.
    let legacy = function(&r, "LegacyFn10E6AA91");
    assert_eq!(legacy["runtime"], "nodejs16.x");
    assert_eq!(package(legacy, "function", "minimist")["version"], "1.2.5");
    assert_eq!(package(legacy, "function", "minimist")["bundled"], true);
    assert!(
        legacy["packages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "uuid" || p["bundled"] == false),
        "legacy.js does not import uuid"
    );
    let inline = function(&r, "InlineFn5EDE362A");
    assert_eq!(inline["code"]["kind"], "inline");
    assert_eq!(inline["scanned"], true);
    let tool = function(&r, "ToolFnB10B8A8D");
    assert_eq!(tool["code"]["kind"], "zip");
    assert!(tool["code"]["artifact"].as_str().unwrap().ends_with(".zip"));
    let six = package(tool, "function", "six");
    assert_eq!(six["version"], "1.16.0");
    assert!(six["location"].as_str().unwrap().contains(".zip!"));
    let thumb = function(&r, "ThumbFnBD56D4D7");
    assert_eq!(thumb["package_type"], "Image");
    assert_eq!(thumb["not_scanned_reason"], "package-type-image");
}

#[test]
fn serverless_functions_layers_and_packaged_zips() {
    let (_, r) = scan(&fixture("serverless"), &[]);
    assert_eq!(names(&r), vec!["invoice", "ledger", "pdf"]);
    let invoice = function(&r, "invoice");
    assert_eq!(invoice["framework"], "serverless");
    assert_eq!(invoice["template"], "serverless.yml:33");
    assert_eq!(invoice["runtime"], "nodejs18.x");
    assert_eq!(invoice["architecture"], "arm64");
    // The function's own `layers:` replaces the provider's.
    assert_eq!(layer_ids(invoice), vec!["DepsLambdaLayer"]);
    assert_eq!(invoice["layers"][0]["artifact"], ".serverless/deps.zip");
    assert_eq!(invoice["code"]["kind"], "zip");
    assert_eq!(invoice["code"]["artifact"], ".serverless/invoice.zip");
    assert_eq!(package(invoice, "function", "minimist")["version"], "1.2.5");
    let qs = package(invoice, "layer:DepsLambdaLayer", "qs");
    assert_eq!(qs["version"], "6.5.2");
    assert_eq!(qs["effective"], true);
    assert_eq!(qs["location"], ".serverless/deps.zip!/nodejs/node_modules");
    let ledger = function(&r, "ledger");
    assert_eq!(ledger["runtime"], "nodejs22.x");
    assert_eq!(ledger["architecture"], "x86_64");
    assert_eq!(
        layer_ids(ledger),
        vec!["arn:aws:lambda:us-east-1:123456789012:layer:shared-tools:4"]
    );
    let pdf = function(&r, "pdf");
    assert_eq!(pdf["runtime"], "python3.9");
    assert_eq!(pdf["architecture"], "arm64");
    assert_eq!(pdf["code"]["artifact"], "artifacts/pdf.zip");
    assert_eq!(package(pdf, "function", "six")["version"], "1.16.0");
}

#[test]
fn terraform_resources_with_plain_values_and_unresolved_expressions() {
    let (_, r) = scan(&fixture("terraform"), &[]);
    assert_eq!(
        names(&r),
        vec![
            "aws_lambda_function.api",
            "aws_lambda_function.worker",
            "aws_lambda_function.thumbnail"
        ]
    );
    let api = function(&r, "aws_lambda_function.api");
    assert_eq!(api["framework"], "terraform");
    assert_eq!(api["template"], "main.tf:24");
    assert_eq!(api["runtime"], "python3.10");
    assert_eq!(api["architecture"], "arm64");
    // data.archive_file: its source_dir, as the zip is not built.
    assert_eq!(api["code"]["artifact"], "src/api");
    assert_eq!(api["layers"][0]["id"], "aws_lambda_layer_version.deps");
    assert_eq!(api["layers"][0]["artifact"], "build/deps.zip");
    assert_eq!(api["layers"][1]["kind"], "external");
    assert_eq!(
        package(api, "layer:aws_lambda_layer_version.deps", "urllib3")["version"],
        "1.26.5"
    );
    let worker = function(&r, "aws_lambda_function.worker");
    assert_eq!(worker["runtime"], Value::Null);
    assert_eq!(worker["unresolved"]["runtime"], "var.worker_runtime");
    assert_eq!(worker["code"]["artifact"], "build/worker.zip");
    let thumb = function(&r, "aws_lambda_function.thumbnail");
    assert_eq!(thumb["package_type"], "Image");
}

#[test]
fn inventory_lists_functions_with_their_packages() {
    let out = crate::common::depwarden(&crate::common::shared_db())
        .args(["inventory", "--format", "json"])
        .arg(fixture("serverless"))
        .output()
        .unwrap();
    let inv: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(inv["packages"].as_array().is_some_and(|p| !p.is_empty()));
    let invoice = function(&inv, "invoice");
    assert_eq!(
        package(invoice, "layer:DepsLambdaLayer", "qs")["effective"],
        true
    );
    assert_eq!(
        invoice["findings"].as_array().unwrap().len(),
        0,
        "no matching in inventory"
    );
    let out = crate::common::depwarden(&crate::common::shared_db())
        .args(["inventory", "--format", "table"])
        .arg(fixture("serverless"))
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("function invoice (serverless serverless.yml:33, nodejs18.x arm64)"),
        "{text}"
    );
    assert!(
        text.contains("    qs@6.5.2  layer:DepsLambdaLayer"),
        "{text}"
    );
}

#[test]
fn serverless_program_files_are_read_from_the_packaged_state() {
    // `serverless.js` is never run: `.serverless/serverless-state.json`
    // (absolute artifact paths of the packaging machine) and the compiled
    // template stand for it; the requirements layer exists only there.
    let (_, r) = scan(&fixture("serverless-js"), &[]);
    let render = function(&r, "render");
    assert_eq!(render["framework"], "serverless");
    assert_eq!(render["runtime"], "python3.12");
    assert_eq!(render["architecture"], "arm64");
    assert_eq!(render["code"]["artifact"], ".serverless/reports.zip");
    assert_eq!(layer_ids(render), vec!["PythonRequirementsLambdaLayer"]);
    assert_eq!(
        render["layers"][0]["artifact"],
        ".serverless/pythonRequirements.zip"
    );
    // The function's zip only declares its requirements; the layer, slimmed
    // of its metadata, holds them installed.
    let declared = package(render, "function", "Jinja2");
    assert_eq!(declared["installed"], false);
    assert_eq!(declared["effective"], false);
    let loaded = package(render, "layer:PythonRequirementsLambdaLayer", "Jinja2");
    assert_eq!(loaded["effective"], true);
    assert!(loaded.get("installed").is_none());
    // MarkupSafe built from source on x86_64 for an arm64 function, found
    // by its ELF header and named by its import directory.
    let x = crate::common::functions::with_rule(render, "native-arch-mismatch");
    assert_eq!(x.len(), 1, "{:#}", render["findings"]);
    assert_eq!(x[0]["package"], "MarkupSafe");
    assert_eq!(x[0]["version"], "2.0.1");
    // Without a packaged state, the program is reported, not run.
    let t = tempfile::tempdir().unwrap();
    std::fs::write(t.path().join("serverless.ts"), "export default {};\n").unwrap();
    let (_, r) = scan(t.path(), &[]);
    let e = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"].as_str().unwrap().ends_with("serverless.ts"))
        .unwrap();
    assert_eq!(e["level"], "error");
    assert!(e["message"].as_str().unwrap().contains("not run"), "{e}");
}

#[test]
fn serverless_state_paths_of_the_packaging_machine_name_local_zips() {
    // The state names artifacts by absolute paths of the machine that
    // packaged (POSIX or Windows): the zip of the same name in
    // `.serverless/` is read, for functions and layers alike; a path that
    // names no zip is kept as written, and not read.
    let t = tempfile::tempdir().unwrap();
    let dot = t.path().join(".serverless");
    std::fs::create_dir_all(&dot).unwrap();
    std::fs::write(t.path().join("serverless.js"), "module.exports = {};\n").unwrap();
    let zip = crate::common::gate::make_zip(&[("app.py", b"x = 1\n", false)]);
    for z in ["api.zip", "jobs.zip", "deps.zip"] {
        std::fs::write(dot.join(z), &zip).unwrap();
    }
    let layer = serde_json::json!([{"Ref": "DepsLambdaLayer"}]);
    let state = serde_json::json!({"service": {
        "service": "svc",
        "provider": {"name": "aws", "runtime": "python3.12"},
        "functions": {
            "api": {"handler": "app.h", "layers": layer,
                    "package": {"artifact": "/home/ci/svc/.serverless/api.zip"}},
            "jobs": {"handler": "app.h",
                     "package": {"artifact": "C:\\ci\\svc\\.serverless\\jobs.zip"}},
            "odd": {"handler": "app.h", "package": {"artifact": "/home/ci/svc/.serverless/.."}}
        },
        "layers": {"deps": {"package": {"artifact": "/home/ci/svc/.serverless/deps.zip"}}}
    }});
    std::fs::write(dot.join("serverless-state.json"), state.to_string()).unwrap();
    let (_, r) = scan(t.path(), &[]);
    let api = function(&r, "api");
    assert_eq!(api["code"]["artifact"], ".serverless/api.zip");
    assert_eq!(api["layers"][0]["artifact"], ".serverless/deps.zip");
    assert_eq!(api["layers"][0]["scanned"], true);
    assert_eq!(
        function(&r, "jobs")["code"]["artifact"],
        ".serverless/jobs.zip"
    );
    let odd = function(&r, "odd");
    assert_eq!(odd["scanned"], false);
    assert_eq!(odd["not_scanned_reason"], "code-unreadable", "{odd:#}");
}

#[test]
fn serverless_service_wide_artifact_serves_functions_not_packaged_individually() {
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("dist")).unwrap();
    let zip = crate::common::gate::make_zip(&[("app.py", b"x = 1\n", false)]);
    std::fs::write(t.path().join("dist/web.zip"), &zip).unwrap();
    std::fs::write(
        t.path().join("serverless.yml"),
        "service: web\nprovider:\n  name: aws\n  runtime: python3.12\npackage:\n  artifact: dist/web.zip\nfunctions:\n  a:\n    handler: app.h\n  b:\n    handler: app.h\n    package:\n      individually: true\n",
    )
    .unwrap();
    let (_, r) = scan(t.path(), &[]);
    let a = function(&r, "a");
    assert_eq!(a["code"]["artifact"], "dist/web.zip");
    assert_eq!(a["code"]["kind"], "zip");
    // Packaged on its own: not the service's zip (none was made here).
    let b = function(&r, "b");
    assert_ne!(b["code"]["artifact"], "dist/web.zip");
    assert_eq!(b["code"]["kind"], "dir");
}
