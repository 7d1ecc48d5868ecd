package stix

import (
	"maps"
	"math"
	"net/netip"
	"regexp"
	"slices"
	"strings"
)

// kind is the category of a STIX object, which decides its common properties.
type kind int

const (
	kindSDO kind = iota
	kindSRO
	kindSCO
	kindMarking
	kindLanguage
	kindExtension
)

// typeDef describes one object type: its own properties (beyond the common
// ones of its kind), which are required, and constraints across properties.
type typeDef struct {
	kind     kind
	props    map[string]check
	required []string
	extra    func(v *validator)
}

type propertySet struct {
	props    map[string]check
	required []string
}

var sdoCommon = map[string]check{
	"spec_version":        str,
	"created_by_ref":      identityRef,
	"created":             timestampMs,
	"modified":            timestampMs,
	"revoked":             boolean,
	"labels":              strList,
	"confidence":          integer(0, 100),
	"lang":                str,
	"external_references": listOf(externalReference),
	"object_marking_refs": markingRefs,
	"granular_markings":   listOf(granularMarking),
	"extensions":          extensions,
}

// commonProperties are the properties every object of a kind may carry.
var commonProperties = map[kind]propertySet{
	kindSDO: {sdoCommon, []string{"created", "modified"}},
	kindSRO: {sdoCommon, []string{"created", "modified"}},
	kindSCO: {map[string]check{
		"spec_version":        str,
		"object_marking_refs": markingRefs,
		"granular_markings":   listOf(granularMarking),
		"extensions":          extensions,
		"defanged":            boolean,
	}, nil},
	kindMarking: {map[string]check{
		"spec_version":        str,
		"created_by_ref":      identityRef,
		"created":             timestampMs,
		"external_references": listOf(externalReference),
		"object_marking_refs": markingRefs,
		"granular_markings":   listOf(granularMarking),
		"extensions":          extensions,
	}, []string{"created"}},
	kindLanguage:  {sdoCommon, []string{"created", "modified"}},
	kindExtension: {without(sdoCommon, "confidence", "lang", "extensions"), []string{"created", "modified", "created_by_ref"}},
}

// without is props less some names.
func without(props map[string]check, names ...string) map[string]check {
	out := maps.Clone(props)
	for _, n := range names {
		delete(out, n)
	}
	return out
}

// Reference targets.
var (
	notRelationshipTarget = []string{"relationship", "sighting", "bundle", "marking-definition", "language-content", "extension-definition"}
	relationshipEnd       = refTo(func(t string) bool { return !slices.Contains(notRelationshipTarget, t) }, "an SDO or SCO")
	sightingOf            = refTo(func(t string) bool { return !slices.Contains(notRelationshipTarget, t) }, "an SDO")
	observedRefs          = listOf(refTo(func(t string) bool { return isObservable(t) || t == "relationship" || t == "sighting" }, "a cyber-observable or a relationship"))
	observableRefs        = listOf(observableTo)
	netAddressRef         = ref("ipv4-addr", "ipv6-addr", "mac-addr", "domain-name")
)

var relationshipType = regexp.MustCompile(`^[a-z0-9-]+$`)

// definitions are the STIX 2.1 object types.
var definitions = map[string]*typeDef{
	"attack-pattern": {kind: kindSDO, required: []string{"name"}, props: map[string]check{
		"name": str, "description": str, "aliases": strList, "kill_chain_phases": killChainPhases}},
	"campaign": {kind: kindSDO, required: []string{"name"}, props: map[string]check{
		"name": str, "description": str, "aliases": strList, "first_seen": timestamp, "last_seen": timestamp, "objective": str},
		extra: seenOrder},
	"course-of-action": {kind: kindSDO, required: []string{"name"}, props: map[string]check{
		"name": str, "description": str}},
	"grouping": {kind: kindSDO, required: []string{"context", "object_refs"}, props: map[string]check{
		"name": str, "description": str, "context": str, "object_refs": refs()}},
	"identity": {kind: kindSDO, required: []string{"name"}, props: map[string]check{
		"name": str, "description": str, "roles": strList, "identity_class": str, "sectors": strList, "contact_information": str}},
	"incident": {kind: kindSDO, required: []string{"name"}, props: map[string]check{
		"name": str, "description": str, "kill_chain_phases": killChainPhases}},
	"indicator": {kind: kindSDO, required: []string{"pattern", "pattern_type", "valid_from"}, props: map[string]check{
		"name": str, "description": str, "indicator_types": strList, "pattern": str, "pattern_type": str,
		"pattern_version": str, "valid_from": timestamp, "valid_until": timestamp, "kill_chain_phases": killChainPhases},
		extra: checkIndicator},
	"infrastructure": {kind: kindSDO, required: []string{"name"}, props: map[string]check{
		"name": str, "description": str, "infrastructure_types": strList, "aliases": strList,
		"kill_chain_phases": killChainPhases, "first_seen": timestamp, "last_seen": timestamp},
		extra: seenOrder},
	"intrusion-set": {kind: kindSDO, required: []string{"name"}, props: map[string]check{
		"name": str, "description": str, "aliases": strList, "first_seen": timestamp, "last_seen": timestamp,
		"goals": strList, "resource_level": str, "primary_motivation": str, "secondary_motivations": strList},
		extra: seenOrder},
	"location": {kind: kindSDO, props: map[string]check{
		"name": str, "description": str, "latitude": number(-90, 90), "longitude": number(-180, 180),
		"precision": number(0, math.MaxFloat64), "region": str, "country": str, "administrative_area": str,
		"city": str, "street_address": str, "postal_code": str},
		extra: checkLocation},
	"malware": {kind: kindSDO, required: []string{"is_family"}, props: map[string]check{
		"name": str, "description": str, "malware_types": strList, "is_family": boolean, "aliases": strList,
		"kill_chain_phases": killChainPhases, "first_seen": timestamp, "last_seen": timestamp,
		"operating_system_refs": refs("software"), "architecture_execution_envs": strList,
		"implementation_languages": strList, "capabilities": strList, "sample_refs": refs("file", "artifact")},
		extra: checkMalware},
	"malware-analysis": {kind: kindSDO, required: []string{"product"}, props: map[string]check{
		"product": str, "version": str, "host_vm_ref": softwareRef, "operating_system_ref": softwareRef,
		"installed_software_refs": refs("software"), "configuration_version": str, "modules": strList,
		"analysis_engine_version": str, "analysis_definition_version": str, "submitted": timestamp,
		"analysis_started": timestamp, "analysis_ended": timestamp, "result_name": str, "result": str,
		"analysis_sco_refs": observableRefs, "sample_ref": observableTo},
		extra: func(v *validator) { v.atLeastOne("result", "analysis_sco_refs") }},
	"note": {kind: kindSDO, required: []string{"content", "object_refs"}, props: map[string]check{
		"abstract": str, "content": str, "authors": strList, "object_refs": refs()}},
	"observed-data": {kind: kindSDO, required: []string{"first_observed", "last_observed", "number_observed"}, props: map[string]check{
		"first_observed": timestamp, "last_observed": timestamp, "number_observed": integer(1, 999999999),
		"objects": dict, "object_refs": observedRefs},
		extra: checkObservedData},
	"opinion": {kind: kindSDO, required: []string{"opinion", "object_refs"}, props: map[string]check{
		"explanation": str, "authors": strList, "object_refs": refs(),
		"opinion": enum("strongly-disagree", "disagree", "neutral", "agree", "strongly-agree")}},
	"report": {kind: kindSDO, required: []string{"name", "published", "object_refs"}, props: map[string]check{
		"name": str, "description": str, "report_types": strList, "published": timestamp, "object_refs": refs()}},
	"threat-actor": {kind: kindSDO, required: []string{"name"}, props: map[string]check{
		"name": str, "description": str, "threat_actor_types": strList, "aliases": strList,
		"first_seen": timestamp, "last_seen": timestamp, "roles": strList, "goals": strList,
		"sophistication": str, "resource_level": str, "primary_motivation": str,
		"secondary_motivations": strList, "personal_motivations": strList},
		extra: seenOrder},
	"tool": {kind: kindSDO, required: []string{"name"}, props: map[string]check{
		"name": str, "description": str, "tool_types": strList, "aliases": strList,
		"kill_chain_phases": killChainPhases, "tool_version": str}},
	"vulnerability": {kind: kindSDO, required: []string{"name"}, props: map[string]check{
		"name": str, "description": str}},

	"relationship": {kind: kindSRO, required: []string{"relationship_type", "source_ref", "target_ref"}, props: map[string]check{
		"relationship_type": checkRelationshipType, "description": str, "source_ref": relationshipEnd,
		"target_ref": relationshipEnd, "start_time": timestamp, "stop_time": timestamp},
		extra: func(v *validator) { v.ordered("start_time", "stop_time", true) }},
	"sighting": {kind: kindSRO, required: []string{"sighting_of_ref"}, props: map[string]check{
		"description": str, "first_seen": timestamp, "last_seen": timestamp, "count": integer(0, 999999999),
		"sighting_of_ref": sightingOf, "observed_data_refs": refs("observed-data"),
		"where_sighted_refs": refs("identity", "location"), "summary": boolean},
		extra: seenOrder},

	"marking-definition": {kind: kindMarking, props: map[string]check{
		"name": str, "definition_type": str, "definition": dict},
		extra: checkMarkingDefinition},
	"language-content": {kind: kindLanguage, required: []string{"object_ref", "contents"}, props: map[string]check{
		"object_ref":      refTo(func(t string) bool { return t != "bundle" && t != "language-content" }, "any object but a language-content"),
		"object_modified": timestampMs, "contents": languageContents}},
	"extension-definition": {kind: kindExtension, required: []string{"name", "schema", "version", "extension_types"}, props: map[string]check{
		"name": str, "description": str, "schema": str, "version": str,
		"extension_types":      listOf(enum(extensionTypes...)),
		"extension_properties": strList},
		extra: checkExtensionDefinition},

	"artifact": {kind: kindSCO, props: map[string]check{
		"mime_type": str, "payload_bin": binary, "url": urlString, "hashes": hashes,
		"encryption_algorithm": enum("AES-256-GCM", "ChaCha20-Poly1305", "mime-type-indicated"), "decryption_key": str},
		extra: checkArtifact},
	"autonomous-system": {kind: kindSCO, required: []string{"number"}, props: map[string]check{
		"number": integer(0, maxInt), "name": str, "rir": str}},
	"directory": {kind: kindSCO, required: []string{"path"}, props: map[string]check{
		"path": str, "path_enc": str, "ctime": timestamp, "mtime": timestamp, "atime": timestamp,
		"contains_refs": refs("file", "directory")}},
	"domain-name": {kind: kindSCO, required: []string{"value"}, props: map[string]check{
		"value": str, "resolves_to_refs": refs("ipv4-addr", "ipv6-addr", "domain-name")}},
	"email-addr": {kind: kindSCO, required: []string{"value"}, props: map[string]check{
		"value": str, "display_name": str, "belongs_to_ref": ref("user-account")}},
	"email-message": {kind: kindSCO, required: []string{"is_multipart"}, props: map[string]check{
		"is_multipart": boolean, "date": timestamp, "content_type": str, "from_ref": ref("email-addr"),
		"sender_ref": ref("email-addr"), "to_refs": refs("email-addr"), "cc_refs": refs("email-addr"),
		"bcc_refs": refs("email-addr"), "message_id": str, "subject": str, "received_lines": strList,
		"additional_header_fields": headerFields, "body": str, "body_multipart": listOf(mimePart), "raw_email_ref": ref("artifact")},
		extra: checkEmailMessage},
	"file": {kind: kindSCO, props: map[string]check{
		"hashes": hashes, "size": integer(0, maxInt), "name": str, "name_enc": str, "magic_number_hex": hexString,
		"mime_type": str, "ctime": timestamp, "mtime": timestamp, "atime": timestamp,
		"parent_directory_ref": ref("directory"), "contains_refs": observableRefs, "content_ref": ref("artifact")},
		extra: func(v *validator) { v.atLeastOne("hashes", "name") }},
	"ipv4-addr": {kind: kindSCO, required: []string{"value"}, props: map[string]check{
		"value": ipAddress(true), "resolves_to_refs": refs("mac-addr"), "belongs_to_refs": refs("autonomous-system")}},
	"ipv6-addr": {kind: kindSCO, required: []string{"value"}, props: map[string]check{
		"value": ipAddress(false), "resolves_to_refs": refs("mac-addr"), "belongs_to_refs": refs("autonomous-system")}},
	"mac-addr": {kind: kindSCO, required: []string{"value"}, props: map[string]check{"value": macAddress}},
	"mutex":    {kind: kindSCO, required: []string{"name"}, props: map[string]check{"name": str}},
	"network-traffic": {kind: kindSCO, required: []string{"protocols"}, props: map[string]check{
		"start": timestamp, "end": timestamp, "is_active": boolean, "src_ref": netAddressRef, "dst_ref": netAddressRef,
		"src_port": integer(0, 65535), "dst_port": integer(0, 65535), "protocols": strList,
		"src_byte_count": integer(0, maxInt), "dst_byte_count": integer(0, maxInt),
		"src_packets": integer(0, maxInt), "dst_packets": integer(0, maxInt), "ipfix": dict,
		"src_payload_ref": ref("artifact"), "dst_payload_ref": ref("artifact"),
		"encapsulates_refs": refs("network-traffic"), "encapsulated_by_ref": ref("network-traffic")},
		extra: checkNetworkTraffic},
	"process": {kind: kindSCO, props: map[string]check{
		"is_hidden": boolean, "pid": integer(0, maxInt), "created_time": timestamp, "cwd": str, "command_line": str,
		"environment_variables": dict, "opened_connection_refs": refs("network-traffic"),
		"creator_user_ref": ref("user-account"), "image_ref": ref("file"), "parent_ref": ref("process"),
		"child_refs": refs("process")},
		extra: func(v *validator) { v.atLeastOneOwn() }},
	"software": {kind: kindSCO, required: []string{"name"}, props: map[string]check{
		"name": str, "cpe": str, "swid": str, "languages": strList, "vendor": str, "version": str}},
	"url": {kind: kindSCO, required: []string{"value"}, props: map[string]check{"value": urlString}},
	"user-account": {kind: kindSCO, props: map[string]check{
		"user_id": str, "credential": str, "account_login": str, "account_type": str, "display_name": str,
		"is_service_account": boolean, "is_privileged": boolean, "can_escalate_privs": boolean, "is_disabled": boolean,
		"account_created": timestamp, "account_expires": timestamp, "credential_last_changed": timestamp,
		"account_first_login": timestamp, "account_last_login": timestamp},
		extra: func(v *validator) { v.atLeastOneOwn() }},
	"windows-registry-key": {kind: kindSCO, props: map[string]check{
		"key": str, "values": listOf(registryValue), "modified_time": timestamp,
		"creator_user_ref": ref("user-account"), "number_of_subkeys": integer(0, maxInt)},
		extra: func(v *validator) {
			v.atLeastOne("key", "values", "modified_time", "creator_user_ref", "number_of_subkeys")
		}},
	"x509-certificate": {kind: kindSCO, props: map[string]check{
		"is_self_signed": boolean, "hashes": hashes, "version": str, "serial_number": str, "signature_algorithm": str,
		"issuer": str, "validity_not_before": timestamp, "validity_not_after": timestamp, "subject": str,
		"subject_public_key_algorithm": str, "subject_public_key_modulus": str,
		"subject_public_key_exponent": integer(0, maxInt), "x509_v3_extensions": dict},
		extra: func(v *validator) { v.atLeastOneOwn() }},
}

// atLeastOneOwn requires at least one property of the object's own type (or
// an extension), for SCOs whose every property is optional.
func (v *validator) atLeastOneOwn() {
	for name := range v.def.props {
		if v.has(name) {
			return
		}
	}
	if !v.has("extensions") {
		v.bad("a %s needs at least one of its properties", v.typ)
	}
}

// customDefinition is how a custom object type is checked: as an SCO when
// an extension says it is one or when it has no created time, else as an SDO.
func customDefinition(obj jsonObject) *typeDef {
	k := kindSDO
	if _, dated := obj.lookup("created"); !dated {
		k = kindSCO
	}
	if exts, ok := obj.get("extensions").(jsonObject); ok {
		for _, e := range exts {
			if m, ok := e.value.(jsonObject); ok {
				switch m.get("extension_type") {
				case "new-sco":
					k = kindSCO
				case "new-sdo":
					k = kindSDO
				case "new-sro":
					k = kindSRO
				}
			}
		}
	}
	return &typeDef{kind: k}
}

var extensionTypes = []string{"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}

var extensionName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*-ext$`)

// predefinedExtensions are STIX 2.1's own SCO extensions, by the type they extend.
var predefinedExtensions = map[string]map[string]check{
	"file": {
		"archive-ext": object(map[string]check{"contains_refs": observableRefs, "comment": str}, "contains_refs"),
		"ntfs-ext": object(map[string]check{"sid": str, "alternate_data_streams": listOf(object(map[string]check{
			"name": str, "hashes": hashes, "size": integer(0, maxInt)}, "name"))}),
		"pdf-ext": object(map[string]check{"version": str, "is_optimized": boolean, "document_info_dict": dict,
			"pdfid0": str, "pdfid1": str}),
		"raster-image-ext": object(map[string]check{"image_height": integer(0, maxInt), "image_width": integer(0, maxInt),
			"bits_per_pixel": integer(0, maxInt), "exif_tags": dict}),
		"windows-pebinary-ext": object(map[string]check{"pe_type": str, "imphash": str, "machine_hex": hexString,
			"number_of_sections": integer(0, maxInt), "time_date_stamp": timestamp,
			"pointer_to_symbol_table_hex": hexString, "number_of_symbols": integer(0, maxInt),
			"size_of_optional_header": integer(0, maxInt), "characteristics_hex": hexString,
			"file_header_hashes": hashes, "optional_header": dict, "sections": listOf(dict)}, "pe_type"),
	},
	"network-traffic": {
		"http-request-ext": object(map[string]check{"request_method": str, "request_value": str, "request_version": str,
			"request_header": headerFields, "message_body_length": integer(0, maxInt), "message_body_data_ref": ref("artifact")},
			"request_method", "request_value"),
		"icmp-ext": object(map[string]check{"icmp_type_hex": hexString, "icmp_code_hex": hexString}, "icmp_type_hex", "icmp_code_hex"),
		"socket-ext": object(map[string]check{
			"address_family": enum("AF_UNSPEC", "AF_INET", "AF_IPX", "AF_APPLETALK", "AF_NETBIOS", "AF_INET6", "AF_IRDA", "AF_BTH"),
			"is_blocking":    boolean, "is_listening": boolean, "options": dict,
			"socket_type":       enum("SOCK_STREAM", "SOCK_DGRAM", "SOCK_RAW", "SOCK_RDM", "SOCK_SEQPACKET"),
			"socket_descriptor": integer(0, maxInt), "socket_handle": integer(math.MinInt64, maxInt)}, "address_family"),
		"tcp-ext": object(map[string]check{"src_flags_hex": hexString, "dst_flags_hex": hexString}),
	},
	"process": {
		"windows-process-ext": object(map[string]check{"aslr_enabled": boolean, "dep_enabled": boolean, "priority": str,
			"owner_sid": str, "window_title": str, "startup_info": dict,
			"integrity_level": enum("low", "medium", "high", "system")}),
		"windows-service-ext": object(map[string]check{"service_name": str, "descriptions": strList, "display_name": str,
			"group_name":       str,
			"start_type":       enum("SERVICE_AUTO_START", "SERVICE_BOOT_START", "SERVICE_DEMAND_START", "SERVICE_DISABLED", "SERVICE_SYSTEM_ALERT"),
			"service_dll_refs": refs("file"),
			"service_type":     enum("SERVICE_KERNEL_DRIVER", "SERVICE_FILE_SYSTEM_DRIVER", "SERVICE_WIN32_OWN_PROCESS", "SERVICE_WIN32_SHARE_PROCESS"),
			"service_status":   enum("SERVICE_CONTINUE_PENDING", "SERVICE_PAUSE_PENDING", "SERVICE_PAUSED", "SERVICE_RUNNING", "SERVICE_START_PENDING", "SERVICE_STOP_PENDING", "SERVICE_STOPPED")}),
	},
	"user-account": {
		"unix-account-ext": object(map[string]check{"gid": integer(math.MinInt64, maxInt), "groups": strList, "home_dir": str, "shell": str}),
	},
}

// extensions checks an object's extensions dictionary: extension-definition
// ids (whose content cannot be known, beyond extension_type) and named
// "-ext" extensions, STIX's own checked in full.
func extensions(v *validator, val any) {
	m, ok := val.(jsonObject)
	if !ok || len(m) == 0 {
		v.bad("must be a non-empty dictionary of extensions")
		return
	}
	for _, e := range m {
		v.member(e.name, extension, e.value)
	}
}

// extension checks one extension of the object, the value at the place
// (whose last step is the extension's name).
func extension(v *validator, ext any) {
	name := v.place[len(v.place)-1].name
	body, ok := ext.(jsonObject)
	if !ok || len(body) == 0 {
		v.bad("must be a non-empty dictionary")
		return
	}
	switch {
	case strings.HasPrefix(name, "extension-definition--"):
		if _, err := SplitID(name); err != nil {
			v.bad("%v", err)
		}
		if et, has := body.lookup("extension_type"); has {
			v.member("extension_type", extensionType, et)
		}
	case extensionName.MatchString(name) || strings.HasPrefix(name, "x-"):
		if c, known := predefinedExtensions[v.typ][name]; known {
			c(v, ext)
		}
	default:
		v.bad("an extension is named by an extension-definition id or a name ending in -ext")
	}
}

var extensionType = enum(extensionTypes...)

func seenOrder(v *validator) { v.ordered("first_seen", "last_seen", false) }

func checkRelationshipType(v *validator, val any) {
	if s, ok := val.(string); !ok || !relationshipType.MatchString(s) {
		v.bad("must be lowercase letters, digits and hyphens, such as indicates or attributed-to")
	}
}

func checkIndicator(v *validator) {
	v.ordered("valid_from", "valid_until", true)
	pattern, ok := v.obj.get("pattern").(string)
	if !ok || v.obj.get("pattern_type") != "stix" {
		return // other pattern languages are stored as they are
	}
	warnings, err := checkPattern(pattern)
	if err != nil {
		v.badIn("pattern", "%v", err)
	}
	for _, w := range warnings {
		v.warnIn("pattern", "%s", w)
	}
}

func checkLocation(v *validator) {
	_, lat := v.obj.lookup("latitude")
	_, long := v.obj.lookup("longitude")
	if lat != long {
		v.bad("latitude and longitude must be given together")
	}
	if v.has("precision") && !(lat && long) {
		v.badIn("precision", "needs latitude and longitude")
	}
	if !v.has("region") && !v.has("country") && !(lat && long) {
		v.bad("a location needs region, country, or latitude and longitude")
	}
}

func checkMalware(v *validator) {
	seenOrder(v)
	if v.obj.get("is_family") == true && !v.has("name") {
		v.badIn("name", "required when is_family is true")
	}
}

func checkObservedData(v *validator) {
	v.ordered("first_observed", "last_observed", false)
	if v.has("objects") == v.has("object_refs") {
		v.bad("needs exactly one of object_refs and objects (objects is deprecated)")
	}
}

// TLP 1.0 marking definitions, the only legal ones of definition_type tlp.
var tlpDefinitions = map[string]string{
	"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9": "white",
	"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da": "green",
	"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82": "amber",
	"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed": "red",
}

// tlp2Extension is the extension that defines TLP 2.0 markings.
const tlp2Extension = "extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d"

// definesTLP reports whether a marking definition carrying the id of a TLP
// marking defines that level, as the standard one does: otherwise anyone
// could post a "TLP:RED" that reads as CLEAR to tools that resolve it.
func (v *validator) definesTLP(id string, level TLP) bool {
	if want, v1 := tlpDefinitions[id]; v1 {
		def, _ := v.obj.get("definition").(jsonObject)
		return v.obj.get("definition_type") == "tlp" && def.get("tlp") == want
	}
	exts, _ := v.obj.get("extensions").(jsonObject)
	ext, _ := exts.get(tlp2Extension).(jsonObject)
	return ext.get("tlp_2_0") == strings.ToLower(strings.TrimPrefix(level.String(), "TLP:"))
}

func checkMarkingDefinition(v *validator) {
	id, _ := v.obj.get("id").(string)
	if level, ok := TLPOf(id); ok && !v.definesTLP(CanonicalID(id), level) {
		v.badIn("id", "%s is the id of %s; only that marking's standard definition may carry it", id, level)
	}
	if v.has("modified") {
		v.badIn("modified", "a marking definition cannot be versioned; a changed marking needs a new id")
	}
	if v.has("extensions") && !v.has("definition_type") {
		return // defined by an extension, as TLP 2.0 markings are
	}
	if !v.has("definition_type") || !v.has("definition") {
		v.bad("a marking definition needs definition_type and definition (or extensions)")
		return
	}
	def, _ := v.obj.get("definition").(jsonObject)
	switch v.obj.get("definition_type") {
	case "statement":
		if _, ok := def.get("statement").(string); !ok {
			v.badIn("definition.statement", "a statement marking needs a statement string")
		}
	case "tlp":
		id, _ := v.obj.get("id").(string)
		level, known := tlpDefinitions[id]
		if !known || def.get("tlp") != level || len(def) != 1 {
			v.badIn("definition", "only the four TLP 1.0 marking definitions of STIX 2.1 may have definition_type tlp")
		}
		if created, _ := v.obj.get("created").(string); known && created != "2017-01-20T00:00:00.000Z" {
			v.badIn("created", "TLP 1.0 marking definitions were created 2017-01-20T00:00:00.000Z")
		}
	}
}

func languageContents(v *validator, val any) {
	dict(v, val)
	m, _ := val.(jsonObject)
	for _, lang := range m {
		v.member(lang.name, dict, lang.value)
	}
}

func checkExtensionDefinition(v *validator) {
	types, _ := v.obj.get("extension_types").([]any)
	if v.has("extension_properties") && !slices.Contains(types, any("toplevel-property-extension")) {
		v.badIn("extension_properties", "is allowed only with extension type toplevel-property-extension")
	}
}

func checkArtifact(v *validator) {
	if v.has("payload_bin") == v.has("url") {
		v.bad("needs exactly one of payload_bin and url")
	}
	if v.has("url") && !v.has("hashes") {
		v.badIn("hashes", "required with url")
	}
	if v.has("decryption_key") && !v.has("encryption_algorithm") {
		v.badIn("encryption_algorithm", "required with decryption_key")
	}
}

var mimePartProperties = object(map[string]check{"body": str, "body_raw_ref": ref("artifact", "file"), "content_type": str, "content_disposition": str})

func mimePart(v *validator, val any) {
	mimePartProperties(v, val)
	if m, ok := val.(jsonObject); ok {
		_, body := m.lookup("body")
		_, rawRef := m.lookup("body_raw_ref")
		if !body && !rawRef {
			v.bad("a MIME part needs body or body_raw_ref")
		}
	}
}

func checkEmailMessage(v *validator) {
	switch v.obj.get("is_multipart") {
	case true:
		if v.has("body") {
			v.badIn("body", "must be absent when is_multipart is true (use body_multipart)")
		}
	case false:
		if v.has("body_multipart") {
			v.badIn("body_multipart", "must be absent when is_multipart is false")
		}
	}
}

func checkNetworkTraffic(v *validator) {
	v.atLeastOne("src_ref", "dst_ref")
	v.ordered("start", "end", false)
	if v.obj.get("is_active") == true && v.has("end") {
		v.badIn("end", "must be absent while is_active is true")
	}
}

var registryValue = object(map[string]check{"name": str, "data": str, "data_type": enum(
	"REG_NONE", "REG_SZ", "REG_EXPAND_SZ", "REG_BINARY", "REG_DWORD", "REG_DWORD_BIG_ENDIAN", "REG_DWORD_LITTLE_ENDIAN",
	"REG_LINK", "REG_MULTI_SZ", "REG_RESOURCE_LIST", "REG_FULL_RESOURCE_DESCRIPTION", "REG_RESOURCE_REQUIREMENTS_LIST",
	"REG_QWORD", "REG_INVALID_TYPE")})

// ipAddress accepts an IPv4 (or IPv6) address or CIDR block.
func ipAddress(v4 bool) check {
	family := "IPv6"
	if v4 {
		family = "IPv4"
	}
	return func(v *validator, val any) {
		s, ok := val.(string)
		if !ok {
			v.bad("must be a string, got %s", jsonKind(val))
			return
		}
		addr, err := netip.ParseAddr(s)
		if err != nil {
			var p netip.Prefix
			if p, err = netip.ParsePrefix(s); err == nil {
				addr = p.Addr()
			}
		}
		if err != nil || addr.Is4() != v4 {
			v.bad("%q is not an %s address or CIDR block", s, family)
		}
	}
}

var macForm = regexp.MustCompile(`^([0-9a-f]{2}:){5}[0-9a-f]{2}$`)

func macAddress(v *validator, val any) {
	if s, ok := val.(string); !ok || !macForm.MatchString(s) {
		v.bad("must be a MAC address in lowercase, colon-separated form such as 00:1a:2b:3c:4d:5e")
	}
}
