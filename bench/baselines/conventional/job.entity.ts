import { Column, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

/** One Magic Hour project, as its latest event left it. */
@Entity({ name: 'jobs' })
export class JobEntity {
  @PrimaryColumn({ type: 'text' })
  id!: string;

  @Column({ type: 'text' })
  media!: string;

  @Column({ name: 'project_type', type: 'text' })
  projectType!: string;

  @Column({ type: 'text', nullable: true })
  name!: string | null;

  @Column({ type: 'text' })
  status!: string;

  @Column({ type: 'jsonb', default: () => "'[]'" })
  downloads!: Array<{ url: string; expires_at: string }>;

  @Column({ type: 'jsonb', nullable: true })
  error!: { code: string; message: string } | null;

  @Column({ name: 'credits_charged', type: 'bigint', nullable: true })
  creditsCharged!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}
