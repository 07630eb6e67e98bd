/**
 * The InfluxQL target for Grafana's InfluxDB datasource. The Foundation SDK has no InfluxDB
 * query type, so this is the custom `Dataquery` its docs describe: raw InfluxQL
 * (`rawQuery: true`), Grafana fills the macros (`$timeFilter`, `$__interval`) at query time.
 * Annotation fields live inside the target, which is where current Grafana reads them.
 */
import type { Builder, Dataquery } from '@grafana/grafana-foundation-sdk/cog';
import type { DataSourceRef } from '@grafana/grafana-foundation-sdk/common';

export interface InfluxQLQuery extends Dataquery {
  refId: string;
  datasource: DataSourceRef;
  query: string;
  rawQuery: true;
  resultFormat: 'time_series' | 'table';
  alias?: string;
  fromAnnotations?: boolean;
  textColumn?: string;
  tagsColumn?: string;
  titleColumn?: string;
  timeEndColumn?: string;
}

export function influxDatasource(uid: string): DataSourceRef {
  return { type: 'influxdb', uid };
}

export class InfluxQLBuilder implements Builder<Dataquery> {
  private readonly q: InfluxQLQuery;

  constructor(datasourceUid: string, query: string, refId = 'A') {
    this.q = {
      refId,
      datasource: influxDatasource(datasourceUid),
      query,
      rawQuery: true,
      resultFormat: 'time_series',
      _implementsDataqueryVariant() {},
    };
  }

  alias(alias: string): this {
    this.q.alias = alias;
    return this;
  }

  table(): this {
    this.q.resultFormat = 'table';
    return this;
  }

  /** Marks the target as an annotation query and names the columns Grafana maps. */
  annotationColumns(c: { text: string; tags: string; title: string }): this {
    Object.assign(this.q, {
      fromAnnotations: true,
      textColumn: c.text,
      tagsColumn: c.tags,
      titleColumn: c.title,
      timeEndColumn: '',
    });
    return this;
  }

  build(): InfluxQLQuery {
    return this.q;
  }
}
