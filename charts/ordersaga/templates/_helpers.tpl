{{/*
ordersaga.name is the chart name, or nameOverride.
*/}}
{{- define "ordersaga.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 40 | trimSuffix "-" -}}
{{- end -}}

{{/*
ordersaga.fullname is the prefix of every object name. It is cut to 40 characters so that
"<fullname>-mongodb-headless" (a Service, at most 63) and the StatefulSet's
controller-revision-hash label ("<fullname>-mongodb-<hash>", at most 63) stay valid.
*/}}
{{- define "ordersaga.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 40 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 40 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
ordersaga.chart is the chart label value.
*/}}
{{- define "ordersaga.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
ordersaga.labels are the labels of every object; call with (dict "ctx" $ "component" "order").
*/}}
{{- define "ordersaga.labels" -}}
helm.sh/chart: {{ include "ordersaga.chart" .ctx }}
{{ include "ordersaga.selectorLabels" . }}
app.kubernetes.io/version: {{ .ctx.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .ctx.Release.Service }}
app.kubernetes.io/part-of: ordersaga
{{- with .ctx.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
ordersaga.selectorLabels select one component's pods; call with (dict "ctx" $ "component" "order").
*/}}
{{- define "ordersaga.selectorLabels" -}}
app.kubernetes.io/name: {{ include "ordersaga.name" .ctx }}
app.kubernetes.io/instance: {{ .ctx.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/*
ordersaga.serviceNames are the five services, in saga order, as a list.
*/}}
{{- define "ordersaga.serviceNames" -}}
order inventory payment shipping notification
{{- end -}}

{{/*
ordersaga.ferretdbPinnedServices are the services that mongodb.engine=ferretdb pins to one
pod, replaced rather than rolled: each serializes its own conditional updates in process
(the order its transitions, the inventory its writes), because FerretDB's are not atomic.
*/}}
{{- define "ordersaga.ferretdbPinnedServices" -}}
order inventory
{{- end -}}

{{/*
ordersaga.image is the OrderSaga image reference.
*/}}
{{- define "ordersaga.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) -}}
{{- end -}}

{{/*
ordersaga.serviceAccountName is the operator's ServiceAccount.
*/}}
{{- define "ordersaga.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (printf "%s-operator" (include "ordersaga.fullname" .)) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
ordersaga.gateway.serviceAccountName is the gateway's ServiceAccount, which the chart always
creates when the gateway is enabled.
*/}}
{{- define "ordersaga.gateway.serviceAccountName" -}}
{{- default (printf "%s-gateway" (include "ordersaga.fullname" .)) .Values.gateway.serviceAccount.name -}}
{{- end -}}

{{/*
ordersaga.gateway.sagaRules are the gateway's rules on OrderSagas and their Events: what it
does for its callers (each operation checked against the caller's own RBAC first) and what its
cache watches.
*/}}
{{- define "ordersaga.gateway.sagaRules" -}}
- apiGroups:
    - saga.ordersaga.io
  resources:
    - ordersagas
  verbs:
    - get
    - list
    - watch
    - create
    - delete
    - patch
- apiGroups:
    - ""
  resources:
    - events
  verbs:
    - list
    - watch
{{- end -}}

{{/*
ordersaga.watchNamespace is the namespace the operator runs sagas in when rbac.scope is
"namespace".
*/}}
{{- define "ordersaga.watchNamespace" -}}
{{- default .Release.Namespace .Values.operator.watchNamespace -}}
{{- end -}}

{{/*
ordersaga.ferretdb is "true" when mongodb.engine is ferretdb, else empty: FerretDB v1 on
SQLite serves the store in MongoDB's place.
*/}}
{{- define "ordersaga.ferretdb" -}}
{{- if eq .Values.mongodb.engine "ferretdb" -}}
true
{{- end -}}
{{- end -}}

{{/*
ordersaga.ferretdb.image is the image of the FerretDB launcher: mongodb.ferretdb.image, each
empty field taken from the OrderSaga image.
*/}}
{{- define "ordersaga.ferretdb.image" -}}
{{- $img := .Values.mongodb.ferretdb.image -}}
{{- $tag := default (default .Chart.AppVersion .Values.image.tag) $img.tag -}}
{{- printf "%s:%s" (default .Values.image.repository $img.repository) $tag -}}
{{- end -}}

{{/*
ordersaga.validate fails the rendering on values the chart refuses, naming the value to
change; it renders nothing. mongodb-statefulset.yaml includes it.
*/}}
{{- define "ordersaga.validate" -}}
{{- if include "ordersaga.ferretdb" . -}}
{{- $whys := dict
  "order" "FerretDB's conditional updates are not atomic, so the order service must run as ONE replica, whose in-process locks keep an order's confirm and cancel from both succeeding (the saga's fence relies on it)"
  "inventory" "FerretDB's conditional updates are not atomic, so the inventory service must run as ONE replica that serializes its own writes (--write-serialization=process)" -}}
{{- if .Values.mongodb.replicaSet.enabled -}}
{{- fail "mongodb.replicaSet.enabled=true cannot be used with mongodb.engine=ferretdb: FerretDB runs one server, not a replica set. Set mongodb.replicaSet.enabled=false, or mongodb.engine=mongodb." -}}
{{- end -}}
{{- range $name := splitList " " (include "ordersaga.ferretdbPinnedServices" .) -}}
{{- $replicas := (index $.Values.services $name).replicas -}}
{{- if gt (int $replicas) 1 -}}
{{- fail (printf "services.%s.replicas=%v cannot be used with mongodb.engine=ferretdb: %s. Set services.%s.replicas=1, or mongodb.engine=mongodb." $name $replicas (index $whys $name) $name) -}}
{{- end -}}
{{- end -}}
{{- range .Values.services.inventory.extraEnv -}}
{{- if eq .name "INVENTORY_WRITE_SERIALIZATION" -}}
{{- fail (printf "services.inventory.extraEnv sets INVENTORY_WRITE_SERIALIZATION, which mongodb.engine=ferretdb pins to process: %s. Remove it, or set mongodb.engine=mongodb." $whys.inventory) -}}
{{- end -}}
{{- end -}}
{{- range $key := list "rootPassword" "existingSecret" -}}
{{- if index $.Values.mongodb.auth $key -}}
{{- fail (printf "mongodb.auth.%s cannot be used with mongodb.engine=ferretdb: FerretDB v1 on SQLite has no authentication, so no password would protect the data. Unset mongodb.auth.%s (the NetworkPolicy is then the only guard), or set mongodb.engine=mongodb." $key $key) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{/*
ordersaga.mongodb.fullname is the name of the StatefulSet, its pods' prefix and the Secret.
*/}}
{{- define "ordersaga.mongodb.fullname" -}}
{{- printf "%s-mongodb" (include "ordersaga.fullname" .) -}}
{{- end -}}

{{/*
ordersaga.mongodb.headless is the headless Service that gives each member a DNS name.
*/}}
{{- define "ordersaga.mongodb.headless" -}}
{{- printf "%s-mongodb-headless" (include "ordersaga.fullname" .) -}}
{{- end -}}

{{/*
ordersaga.mongodb.secretName is the Secret that holds the root password (and keyfile).
*/}}
{{- define "ordersaga.mongodb.secretName" -}}
{{- default (include "ordersaga.mongodb.fullname" .) .Values.mongodb.auth.existingSecret -}}
{{- end -}}

{{- define "ordersaga.mongodb.passwordKey" -}}
{{- if .Values.mongodb.auth.existingSecret -}}
{{- .Values.mongodb.auth.existingSecretPasswordKey -}}
{{- else -}}
mongodb-root-password
{{- end -}}
{{- end -}}

{{- define "ordersaga.mongodb.replicaSetKeyKey" -}}
{{- if .Values.mongodb.auth.existingSecret -}}
{{- .Values.mongodb.auth.existingSecretReplicaSetKeyKey -}}
{{- else -}}
mongodb-replica-set-key
{{- end -}}
{{- end -}}

{{/*
ordersaga.mongodb.members is the number of MongoDB pods.
*/}}
{{- define "ordersaga.mongodb.members" -}}
{{- if .Values.mongodb.replicaSet.enabled -}}
{{- .Values.mongodb.replicaSet.members -}}
{{- else -}}
1
{{- end -}}
{{- end -}}

{{/*
ordersaga.mongodb.hosts is the comma-separated host:port list of the members, by their
stable DNS names through the headless Service.
*/}}
{{- define "ordersaga.mongodb.hosts" -}}
{{- $sts := include "ordersaga.mongodb.fullname" . -}}
{{- $svc := include "ordersaga.mongodb.headless" . -}}
{{- $hosts := list -}}
{{- range $i := until (int (include "ordersaga.mongodb.members" .)) -}}
{{- $hosts = append $hosts (printf "%s-%d.%s.%s.svc.cluster.local:27017" $sts $i $svc $.Release.Namespace) -}}
{{- end -}}
{{- join "," $hosts -}}
{{- end -}}

{{/*
ordersaga.mongodb.uri is the services' MONGO_URI. With MongoDB it refers to $(MONGO_USERNAME)
and $(MONGO_PASSWORD), which the container's env defines before it, so the password never
appears in the pod spec. FerretDB has no users: its URI carries no credentials.
*/}}
{{- define "ordersaga.mongodb.uri" -}}
{{- if include "ordersaga.ferretdb" . -}}
{{- printf "mongodb://%s/" (include "ordersaga.mongodb.hosts" .) -}}
{{- else -}}
{{- $query := "authSource=admin" -}}
{{- if .Values.mongodb.replicaSet.enabled -}}
{{- $query = printf "%s&replicaSet=%s" $query .Values.mongodb.replicaSet.name -}}
{{- end -}}
{{- printf "mongodb://$(MONGO_USERNAME):$(MONGO_PASSWORD)@%s/?%s" (include "ordersaga.mongodb.hosts" .) $query -}}
{{- end -}}
{{- end -}}

{{/*
ordersaga.mongodb.authEnv are the env entries MONGO_USERNAME and MONGO_PASSWORD (from the
Secret); nothing with FerretDB, which has no users.
*/}}
{{- define "ordersaga.mongodb.authEnv" -}}
{{- if not (include "ordersaga.ferretdb" .) -}}
- name: MONGO_USERNAME
  value: {{ .Values.mongodb.auth.rootUser | quote }}
- name: MONGO_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "ordersaga.mongodb.secretName" . }}
      key: {{ include "ordersaga.mongodb.passwordKey" . }}
{{- end -}}
{{- end -}}

{{/*
ordersaga.serviceURLTemplate is the base URL of the chart's services, as the manager's and
sagactl's --service-url-template: {service} and {namespace} are placeholders they fill in.
*/}}
{{- define "ordersaga.serviceURLTemplate" -}}
http://{{ include "ordersaga.fullname" . }}-{service}.{namespace}.svc.cluster.local:8080
{{- end -}}

{{/*
ordersaga.serviceURLs renders operator.serviceURLs as the manager's --service-urls value.
*/}}
{{- define "ordersaga.serviceURLs" -}}
{{- $pairs := list -}}
{{- range $name, $url := .Values.operator.serviceURLs -}}
{{- $pairs = append $pairs (printf "%s=%s" $name $url) -}}
{{- end -}}
{{- join "," $pairs -}}
{{- end -}}
