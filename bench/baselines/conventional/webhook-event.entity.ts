import { Column, CreateDateColumn, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** One received webhook; `event_key` (`{type}:{payload.id}`) is unique, so a redelivery is refused. */
@Entity({ name: 'webhook_events' })
export class WebhookEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id!: string;

  @Column({ name: 'event_key', type: 'text', unique: true })
  eventKey!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ name: 'project_id', type: 'text' })
  projectId!: string;

  @Column({ type: 'text', default: 'received' })
  status!: 'received' | 'processed';

  @Column({ type: 'jsonb' })
  payload!: unknown;

  @CreateDateColumn({ name: 'received_at', type: 'timestamptz' })
  receivedAt!: Date;

  @Column({ name: 'processed_at', type: 'timestamptz', nullable: true })
  processedAt!: Date | null;
}
